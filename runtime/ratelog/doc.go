// Package ratelog bounds how many log lines one cause writes: a slog
// handler that passes the first Burst records of each cause in every
// Window and counts the rest, reporting the count on the next record of
// that cause that passes. A cause is the record's "cause" attribute when
// it has one (set it where the message carries variable text, such as an
// address), else its level and message.
//
// Without it, anyone who can send a packet writes a log line (a garbage
// UDP datagram to a gossip port wrote an ERROR line each, spoofable from
// any source), and one failing link fills the disk with the same line.
// `fieldsync run` wraps its logger in it.
package ratelog
