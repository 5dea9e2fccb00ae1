// Package bench holds the measurements behind `fieldsync bench` and
// BENCHMARKS.md. Each benchmark measures fieldsync against a baseline in the
// same run on the same machine, and reports ratios with the raw figures.
package bench
