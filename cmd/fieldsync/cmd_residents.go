package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"fieldsync/enrollment/pii"
	"fieldsync/enrollment/residents"
	"fieldsync/hub"
	"fieldsync/replication/datadir"
	"fieldsync/runtime/localapi"
)

func init() {
	register(&command{
		name:     "residents",
		synopsis: "the communes' resident lists: import at a hub, completeness, a person's status",
		usage: `Usage: fieldsync residents import --dir HUB [FILE|-] [--commune C] [--code-list L] [--as-of YYYY-MM-DD] [--min-age N] [--source TEXT] [--partial] [--json]
       fieldsync residents show   --dir HUB [--commune C [--category missing|accounted|enrolled|not-eligible|all]] [--json]
       fieldsync residents status --dir LAPTOP --officer NAME ID STATUS [--note TEXT] [--capture ORIGIN:SEQ] [--supersedes ORIGIN:SEQ,...]

A commune's resident list is the population register's list of the people
living there; completeness ("đủ") is every eligible person on it enrolled or
accounted for. The province (or a district) imports it from CSV
(docs/residents.md lists the columns); each commune's part goes down to
that commune's laptops only, in the hub's downward channel for it. Officers
set each person's status on the laptop; statuses go up like captures, and
every hub counts the same figures.

import   reads a CSV list and publishes the rows that are new or changed.
         The file is each named commune's whole list: people no longer on
         it are removed (--partial: an update, nothing removed). Rejected
         rows are listed with their line and reasons (exit status 3); the
         others are imported. --as-of is the register's date (ages for
         eligibility are counted there; today by default), --min-age the
         age from which people are eligible (14).
show     per commune and district: eligible, enrolled, accounted for (away,
         deceased, moved), missing, and which communes are complete; with
         --commune, its people of a category (missing by default), house
         by house.
status   sets a person's status on a laptop: enrolled, not-yet, away,
         deceased, moved, refused or not-eligible.

Examples:
  fieldsync residents import --dir /srv/fs-province --as-of 2025-03-01 danh-sach-cu-tru.csv
  fieldsync residents show --dir /srv/fs-district --commune 18586
  fieldsync residents status --dir /var/lib/fieldsync --officer CA-18586-02 042085000123 away --note "làm việc tại Bình Dương"
`,
		run: runResidents,
	})
}

func runResidents(e *env, args []string) error {
	if len(args) == 0 {
		return usagef("residents: say import, show or status")
	}
	switch args[0] {
	case "import":
		return runResidentsImport(e, args[1:])
	case "show":
		return runResidentsShow(e, args[1:])
	case "status":
		return runResidentsStatus(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, commands["residents"].usage)
		return nil
	}
	return usagef("residents: unknown subcommand %q (import, show or status)", args[0])
}

func runResidentsImport(e *env, args []string) error {
	fs := newFlags(e, commands["residents"])
	dir := fs.String("dir", "", "hub data directory")
	var opts hub.ResidentsOptions
	fs.StringVar(&opts.Commune, "commune", "", "commune code of rows without a commune_code column")
	fs.StringVar(&opts.CodeList, "code-list", "", "code list of the commune codes (2023-04 or 2025-07; default 2025-07)")
	fs.StringVar(&opts.AsOf, "as-of", "", "the register's date, YYYY-MM-DD (default today)")
	fs.IntVar(&opts.MinAge, "min-age", 0, "age from which people are eligible (default 14)")
	fs.StringVar(&opts.Source, "source", "", "what the list is (default: the file name)")
	fs.BoolVar(&opts.Partial, "partial", false, "the file updates some people; remove nobody")
	asJSON := fs.Bool("json", false, "print JSON")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in, closeIn, err := inputFile(e, fs.Args())
	if err != nil {
		return err
	}
	defer closeIn()
	if opts.Source == "" && len(fs.Args()) == 1 {
		opts.Source = fs.Args()[0]
	}
	var res hub.ResidentsResult
	err = withHub(*dir, keys, func(c *localapi.Client) error {
		q := url.Values{"commune": {opts.Commune}, "code_list": {opts.CodeList}, "as_of": {opts.AsOf}, "source": {opts.Source}}
		if opts.MinAge != 0 {
			q.Set("min_age", strconv.Itoa(opts.MinAge))
		}
		if opts.Partial {
			q.Set("partial", "1")
		}
		err := c.Do("POST", "/api/residents/import?"+q.Encode(), localapi.Body{Type: localapi.TypeCSV, Reader: in}, &res)
		var ae *localapi.Error
		if errors.As(err, &ae) && ae.Status == 400 {
			return rejectedError{errors.New(ae.Message)}
		}
		return err
	}, func(d *datadir.Dir, view *hub.View) error {
		a, err := hub.NewAuthor(d)
		if err != nil {
			return err
		}
		res, _, err = a.ImportResidents(view, in, opts, time.Now())
		if errors.Is(err, hub.ErrBadResidents) {
			return rejectedError{err}
		}
		return err
	})
	if err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	if *asJSON {
		if err := writeMaskedJSON(e, m, res); err != nil {
			return err
		}
	} else {
		printResidentsImport(e.stdout, res, m)
	}
	if res.Rejected > 0 {
		return rejectedError{fmt.Errorf("%d row(s) rejected; the others were imported", res.Rejected)}
	}
	return nil
}

func printResidentsImport(w io.Writer, res hub.ResidentsResult, m pii.Masker) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "commune\tname\trows\tnew or changed\tremoved\tentries")
	for _, c := range res.Communes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", c.Commune, c.Name, c.Rows, c.Changed, c.Removed, c.Entries)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d row(s) accepted (%d with warnings), %d rejected; %d entries written; census digest %s\n",
		res.Accepted, res.Warnings, res.Rejected, res.Entries, shortDigest(res.CensusDigest))
	for _, r := range res.RejectedRows {
		fmt.Fprintf(w, "line %d %s rejected:", r.Line, m.Text(r.ID))
		if r.Error != "" {
			fmt.Fprintf(w, " %s", m.DecodeError(r.Error))
		}
		fmt.Fprintln(w)
		for _, f := range r.Findings.Filter(2) {
			fmt.Fprintf(w, "  %s\n", m.Finding(f))
		}
	}
	if res.Rejected > len(res.RejectedRows) {
		fmt.Fprintf(w, "(%d more rejected rows not listed)\n", res.Rejected-len(res.RejectedRows))
	}
}

func shortDigest(d string) string {
	if len(d) > 16 {
		return d[:16]
	}
	return d
}

func runResidentsShow(e *env, args []string) error {
	fs := newFlags(e, commands["residents"])
	dir := fs.String("dir", "", "hub data directory")
	commune := fs.String("commune", "", "list this commune's people")
	category := fs.String("category", "missing", "with --commune: missing, accounted, enrolled, not-eligible or all")
	asJSON := fs.Bool("json", false, "print JSON")
	keys, showPII := addKeyFlags(fs), addShowPII(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	m := newMasker(e, *showPII)
	if *commune == "" {
		var rep hub.CensusReport
		if err := withView(*dir, keys, "/api/residents", &rep, func(v *hub.View) (err error) {
			rep, err = v.Census()
			return err
		}); err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, rep)
		}
		printCensus(e.stdout, rep)
		return nil
	}
	cats, err := categories(*category)
	if err != nil {
		return err
	}
	var page struct {
		People []hub.ResidentRow `json:"people"`
		Total  int               `json:"total"`
	}
	err = withHub(*dir, keys, func(c *localapi.Client) error {
		path := "/api/residents/people?" + url.Values{"commune": {*commune}, "category": {*category}}.Encode()
		return c.Do("GET", path, nil, &page)
	}, func(d *datadir.Dir, view *hub.View) (err error) {
		page.People, page.Total, err = view.ResidentsOf(d.Log, *commune, 0, cats...)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeMaskedJSON(e, m, page)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "address\thousehold\tID number\tname\tborn\tstatus")
	for _, p := range page.People {
		r := p.Resident
		if r == nil {
			r = &residents.Resident{}
		}
		st := ""
		if p.Status != nil {
			st = string(p.Status.Status) + " (" + p.Status.Officer + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Text(r.Address), r.Household, m.Text(p.PersonalID), m.Text(r.FullName), m.Text(r.DateOfBirth.String()), st)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%d of %d %s\n", len(page.People), page.Total, *category)
	return nil
}

func categories(s string) ([]residents.Category, error) {
	switch s {
	case "all", "":
		return nil, nil
	case "missing":
		return []residents.Category{residents.CatMissing}, nil
	case "accounted":
		return []residents.Category{residents.CatAccounted}, nil
	case "enrolled":
		return []residents.Category{residents.CatEnrolled}, nil
	case "not-eligible":
		return []residents.Category{residents.CatNotEligible}, nil
	}
	return nil, usagef("--category: missing, accounted, enrolled, not-eligible or all")
}

func printCensus(w io.Writer, rep hub.CensusReport) {
	if len(rep.Communes) == 0 {
		fmt.Fprintln(w, "no resident list held (import one with 'fieldsync residents import' at the province or district)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "commune\tname\ton list\teligible\tenrolled\taccounted\tmissing\tcomplete\t")
	row := func(code, name string, c residents.Counts, done string) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t\n", code, name, c.Residents, c.Eligible, c.Enrolled, c.Accounted, c.Missing, done)
	}
	for _, c := range rep.Communes {
		done := ""
		if c.Complete {
			done = "yes"
		}
		row(c.Commune, c.Name, c.Counts, done)
	}
	for _, d := range rep.Districts {
		row(d.District, d.Name+" (district)", d.Counts, fmt.Sprintf("%d/%d", d.CompleteCommunes, d.Communes))
	}
	row("", "total", rep.Total, fmt.Sprintf("%d/%d", rep.Complete, len(rep.Communes)))
	tw.Flush()
	fmt.Fprintf(w, "census digest %s\n", shortDigest(rep.Digest))
}

func runResidentsStatus(e *env, args []string) error {
	fs := newFlags(e, commands["residents"])
	dir := fs.String("dir", "", "laptop data directory")
	officer := fs.String("officer", "", "the officer setting the status")
	note := fs.String("note", "", "why (e.g. where the person works)")
	capture := fs.String("capture", "", "enrolled: the capture's entry (origin:seq)")
	supersedes := fs.String("supersedes", "", "status entries this one replaces (origin:seq, comma-separated)")
	asJSON := fs.Bool("json", false, "print JSON")
	keys := addKeyFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) != 2 {
		return usagef("give the person's ID number and the status (%s)", codesList())
	}
	st := residents.Status{PersonalID: fs.Args()[0], Status: residents.Code(fs.Args()[1]), Officer: *officer, Note: *note, Capture: *capture}
	if !st.Status.Known() {
		return usagef("status %q: say one of %s", st.Status, codesList())
	}
	if *supersedes != "" {
		st.Supersedes = strings.Split(*supersedes, ",")
	}
	c, err := openClient(*dir, keys, datadir.OpenOptions{})
	if err != nil {
		return err
	}
	defer c.Close()
	res, err := c.SetResidentStatus(st)
	var ae *localapi.Error
	if errors.As(err, &ae) && ae.Status/100 == 4 {
		return rejectedError{errors.New(ae.Message)}
	}
	if err != nil {
		return notNode(err, "%s is a hub; statuses are set on the commune's laptops", *dir)
	}
	if *asJSON {
		return writeJSON(e.stdout, res)
	}
	if res.Receipt == nil {
		for _, f := range res.Rejected.Filter(2) {
			fmt.Fprintf(e.stdout, "  %s\n", f.Message)
		}
		return rejectedError{errors.New("status refused, not saved")}
	}
	fmt.Fprintf(e.stdout, "status saved as %s; it goes up to the hubs with the captures\n", res.Receipt.ID)
	return nil
}

func codesList() string {
	var s []string
	for _, c := range residents.Codes {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}
