package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"fieldsync/node"
	"fieldsync/replication/datadir"
)

// rejectedReportKind names the sealed reports of rejected import rows.
const rejectedReportKind = "import-rejected"

func init() {
	register(&command{
		name:     "rejected",
		synopsis: "show the rows an import rejected, and why (from the sealed reports in DIR)",
		usage: `Usage: fieldsync rejected --dir DIR [--report NAME | --list] [--json] [--show-pii]

Reads the rejected-rows reports that 'fieldsync import' seals under the data
directory's key (they quote citizens' data, so they are never written in the
clear). Without --report it shows the newest. --list lists the reports.
Works while 'fieldsync run' runs. The reasons quote the values they judge:
shown on a terminal; in a file or pipe only field and rule, unless
--show-pii (docs/keys.md).

Examples:
  fieldsync rejected --dir /var/lib/fieldsync
  fieldsync rejected --dir /var/lib/fieldsync --list
  fieldsync rejected --dir /var/lib/fieldsync --json --show-pii > /media/officer/rejected.jsonl
`,
		run: runRejected,
	})
}

func runRejected(e *env, args []string) error {
	fs := newFlags(e, commands["rejected"])
	dir := fs.String("dir", "", "data directory")
	name := fs.String("report", "", "the report to show (a name from --list; default the newest)")
	list := fs.Bool("list", false, "list the reports")
	asJSON := fs.Bool("json", false, "print JSON lines")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	reports, err := datadir.ListReports(*dir)
	if err != nil {
		return err
	}
	if *list {
		return printReportList(e, reports, *asJSON)
	}
	if *name == "" {
		for _, r := range reports {
			if strings.HasPrefix(r.Name, rejectedReportKind+"-") {
				*name = r.Name
			}
		}
		if *name == "" {
			fmt.Fprintf(e.stdout, "no rejected rows reported in %s\n", *dir)
			return nil
		}
	}
	o, err := keys.openOptions(datadir.OpenOptions{})
	if err != nil {
		return err
	}
	kr, err := datadir.Unlock(*dir, o)
	if err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintf(e.stdout, "report %s\n", *name)
		fmt.Fprintln(tw, "LINE\tFIELD\tCODE\tREASON")
	}
	rows := 0
	err = kr.ReadReport(*name, func(rec []byte) error {
		var row node.RejectedRow
		if err := json.Unmarshal(rec, &row); err != nil {
			return fmt.Errorf("report %s: record %d: %w", *name, rows+1, err)
		}
		rows++
		for i, r := range row.Reasons {
			row.Reasons[i].Message = m.Reason(r.Code, r.Message)
		}
		if *asJSON {
			return writeJSON(e.stdout, row)
		}
		for _, r := range row.Reasons {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", row.Line, orDash(r.Field), orDash(r.Code), r.Message)
		}
		return nil
	})
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "%d row(s)\n", rows)
	}
	return nil
}

func printReportList(e *env, reports []datadir.ReportInfo, asJSON bool) error {
	if asJSON {
		return writeJSON(e.stdout, reports)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPORT\tBYTES\tWRITTEN")
	for _, r := range reports {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", r.Name, r.Size, r.ModTime.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
