package capture

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"fieldsync/enrollment"
	"fieldsync/enrollment/residents"
	"fieldsync/node"
	"fieldsync/replication"
	"fieldsync/replication/replicator"
	"fieldsync/runtime/localapi"
)

// Refdata is every code list the form offers, from package enrollment:
// the page holds no list of its own.
type Refdata struct {
	Provinces       []province            `json:"provinces"` // the 63 of the 2023 list (ID prefixes)
	Provinces2025   []province            `json:"provinces_2025"`
	Ethnicities     []ethnicity           `json:"ethnicities"`
	Religions       []string              `json:"religions"`
	Units           map[string][]unit     `json:"units"` // code list → communes (and districts)
	CodeLists       []string              `json:"code_lists"`
	MaritalStatuses []string              `json:"marital_statuses"`
	Relations       []string              `json:"relations"`
	RequestTypes    []string              `json:"request_types"`
	Statuses        []residents.Code      `json:"statuses"`
	Slots           []enrollment.SlotSpec `json:"slots"`
	Exceptions      []string              `json:"exceptions"` // codes of an empty slot
	// Labels name every field of the form in both languages, in the words
	// of the validation messages (enrollment.FieldLabel).
	Labels map[string][2]string `json:"labels"`
}

// formPaths are the fields the form has.
var formPaths = []string{"personal_id", "full_name", "date_of_birth", "sex", "ethnicity_code", "religion", "nationality",
	"birth_registration", "birth_registration.unit_code", "birth_registration.code_list", "birth_registration.text",
	"hometown", "hometown.unit_code", "hometown.code_list", "hometown.text",
	"permanent_residence", "permanent_residence.unit_code", "permanent_residence.code_list", "permanent_residence.text",
	"current_residence", "current_residence.unit_code", "current_residence.code_list", "current_residence.text",
	"father", "father.full_name", "father.personal_id", "mother", "mother.full_name", "mother.personal_id",
	"household_head", "household_head.full_name", "household_head.personal_id", "relation_to_head",
	"occupation", "marital_status", "blood_type", "capture.request_type", "biometrics", "legacy_id_number"}

type province struct {
	Code   string `json:"code"`
	Prefix string `json:"prefix,omitempty"`
	Name   string `json:"name"`
}

type ethnicity struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type unit struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Parent string `json:"parent,omitempty"`
}

// RequestTypes are the kinds of card request (Capture.RequestType).
var RequestTypes = []string{"cấp mới", "cấp đổi", "cấp lại"}

func (a *App) serveRefdata(w http.ResponseWriter, r *http.Request, _ node.Officer) {
	rd := Refdata{Units: map[string][]unit{}, CodeLists: enrollment.CodeLists(), MaritalStatuses: enrollment.MaritalStatuses,
		Relations: enrollment.Relations, RequestTypes: RequestTypes, Statuses: residents.Codes, Slots: enrollment.Slots,
		Exceptions: enrollment.ExceptionCodes,
		Labels:     map[string][2]string{}}
	for _, p := range formPaths {
		en, vi := enrollment.FieldLabel(p)
		rd.Labels[p] = [2]string{vi, en}
	}
	seen := map[string]bool{}
	for _, p := range enrollment.Provinces() {
		rd.Provinces = append(rd.Provinces, province{Code: p.Code, Prefix: p.Prefix, Name: p.Name})
		if !seen[p.SuccessorCode] {
			seen[p.SuccessorCode] = true
			rd.Provinces2025 = append(rd.Provinces2025, province{Code: p.SuccessorCode, Name: p.SuccessorName})
		}
	}
	sort.Slice(rd.Provinces2025, func(i, j int) bool { return rd.Provinces2025[i].Code < rd.Provinces2025[j].Code })
	for _, e := range enrollment.Ethnicities() {
		rd.Ethnicities = append(rd.Ethnicities, ethnicity{Code: e.Code, Name: e.Name})
	}
	for _, rel := range enrollment.Religions() {
		rd.Religions = append(rd.Religions, rel.Name)
	}
	for _, l := range enrollment.CodeLists() {
		for _, u := range enrollment.Units(l) {
			if u.Level != "province" {
				rd.Units[l] = append(rd.Units[l], unit{Code: u.Code, Name: u.Name, Level: u.Level, Parent: u.Parent})
			}
		}
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	localapi.WriteJSON(w, http.StatusOK, rd)
}

// checkRequest is the form as it stands; Amend names the capture it
// corrects, if it does.
type checkRequest struct {
	Record json.RawMessage `json:"record"`
	Amend  string          `json:"amend,omitempty"`
}

// decodeRecord reads the form's record with the strict decoder of
// `enroll` (enrollment.DecodeJSON); a value it cannot read (a date such as
// "31/x/1985") comes back as the finding the officer sees on that field.
func decodeRecord(raw json.RawMessage) (enrollment.Enrollment, enrollment.Findings, bool) {
	rec, err := enrollment.DecodeJSON(raw)
	if err == nil {
		return rec, nil, true
	}
	if f, ok := enrollment.DecodeFinding(err); ok {
		return rec, enrollment.Findings{f}, false
	}
	return rec, enrollment.Findings{{Field: "", Severity: enrollment.Reject, Code: "field.unreadable", Message: err.Error(), MessageVI: err.Error()}}, false
}

// CheckAnswer is the validation and look-up of a draft.
type CheckAnswer struct {
	Findings   enrollment.Findings `json:"findings"`
	Matches    []Match             `json:"matches"`
	TookMicros int64               `json:"took_us"`
}

// prepare fills what the laptop knows of a capture: the officer signed in
// (always: a capture carries who made it), the commune, the device.
func (a *App) prepare(rec *enrollment.Enrollment, o node.Officer) {
	rec.Capture.Officer = o.ID
	cfg := a.node.Dir().Config
	if rec.Capture.CommuneCode == "" {
		rec.Capture.CommuneCode = cfg.Unit
	}
	if rec.Capture.CodeList == "" && rec.PermanentResidence.UnitCode == rec.Capture.CommuneCode {
		rec.Capture.CodeList = rec.PermanentResidence.CodeList // the list the officer codes the commune in
	}
	rec.Capture.Device = string(replication.DeviceIDOf(a.node.Dir().Signer.PublicKey()))
	if rec.Capture.CapturedAt.IsZero() {
		rec.Capture.CapturedAt = a.clock.Now().UTC()
	}
}

// serveCheck validates the draft with the same rules as `enroll` (package
// enrollment) and looks up what it may duplicate, on every change of the
// form: it must answer in a few milliseconds.
func (a *App) serveCheck(w http.ResponseWriter, r *http.Request, o node.Officer) {
	start := time.Now()
	var req checkRequest
	if !localapi.DecodeJSON(w, r, &req, MaxRecordBytes) {
		return
	}
	rec, bad, ok := decodeRecord(req.Record)
	var ans CheckAnswer
	if ok {
		a.prepare(&rec, o)
		ans.Findings = enrollment.Validate(&rec, enrollment.Context{Now: a.clock.Now()})
		ans.Matches = a.ix.lookup(&rec, req.Amend)
	} else {
		ans.Findings = bad
	}
	if ans.Findings == nil {
		ans.Findings = enrollment.Findings{}
	}
	if ans.Matches == nil {
		ans.Matches = []Match{}
	}
	ans.TookMicros = time.Since(start).Microseconds()
	localapi.WriteJSON(w, http.StatusOK, ans)
}

// saveRequest saves the form: a new capture, or a correction of Amend.
// Resident names the person of the list the officer captured (their
// status becomes enrolled, linked to the capture).
type saveRequest struct {
	Record json.RawMessage `json:"record"`
	// Files are the dossier's images (base64 in JSON): the portrait, and
	// the scanner's files named by slot ("finger_r2.wsq"); Exceptions the
	// slots left empty, each with its code (enrollment.ExceptionCodes).
	Files      []fileUpload      `json:"files,omitempty"`
	Exceptions map[string]string `json:"exceptions,omitempty"`
	Amend      string            `json:"amend,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Resident   string            `json:"resident,omitempty"`
}

// fileUpload is one file of a dossier; Slot may be left to its name.
type fileUpload struct {
	Slot string `json:"slot,omitempty"`
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// MaxSaveBytes bounds a save with its files: every slot at its limit.
const MaxSaveBytes = 48 << 20

// dossierFiles turns what the page sent into the dossier's files.
func dossierFiles(req *saveRequest) []enrollment.DossierFile {
	var out []enrollment.DossierFile
	for _, f := range req.Files {
		slot := f.Slot
		if slot == "" {
			slot = node.SlotOfFileName(f.Name)
		}
		out = append(out, enrollment.DossierFile{Slot: slot, Name: f.Name, Data: f.Data, Size: int64(len(f.Data))})
	}
	slots := make([]string, 0, len(req.Exceptions))
	for slot := range req.Exceptions {
		slots = append(slots, slot)
	}
	sort.Strings(slots)
	for _, slot := range slots {
		out = append(out, enrollment.DossierFile{Slot: slot, Exception: req.Exceptions[slot]})
	}
	return out
}

// SaveAnswer is a saved capture: its receipt (the entry ID, the warnings)
// and the status linking it to the list.
type SaveAnswer struct {
	Receipt node.Receipt           `json:"receipt"`
	Status  *node.Receipt          `json:"status,omitempty"`
	Record  *enrollment.Enrollment `json:"record"`
}

func (a *App) serveSave(w http.ResponseWriter, r *http.Request, o node.Officer) {
	var req saveRequest
	if !localapi.DecodeJSON(w, r, &req, MaxSaveBytes) {
		return
	}
	if len(req.Files) > enrollment.MaxBiometrics || len(req.Exceptions) > enrollment.MaxBiometrics {
		writeError(w, http.StatusBadRequest, "too many files", "quá nhiều tệp")
		return
	}
	rec, bad, ok := decodeRecord(req.Record)
	if !ok {
		localapi.WriteJSON(w, http.StatusUnprocessableEntity, CheckAnswer{Findings: bad, Matches: []Match{}})
		return
	}
	a.prepare(&rec, o)
	var rc node.Receipt
	var err error
	if req.Amend != "" {
		id, perr := replication.ParseEntryID(req.Amend)
		if perr != nil {
			writeError(w, http.StatusBadRequest, "amend: "+perr.Error(), "sửa: "+perr.Error())
			return
		}
		if len(req.Files)+len(req.Exceptions) > 0 {
			writeError(w, http.StatusBadRequest, "a correction keeps the dossier's images: save new images as a new capture", "bản sửa giữ nguyên ảnh của hồ sơ: ảnh mới cần một lần thu nhận mới")
			return
		}
		rc, err = a.node.Amend(id, rec, req.Reason)
	} else {
		rc, err = a.node.SaveDossier(&node.Dossier{Record: rec, Files: dossierFiles(&req)})
	}
	var rej *node.RejectedError
	var frozen *node.FrozenError
	switch {
	case errors.As(err, &rej):
		localapi.WriteJSON(w, http.StatusUnprocessableEntity, CheckAnswer{Findings: rej.Findings, Matches: []Match{}})
		return
	case errors.As(err, &frozen):
		writeError(w, http.StatusConflict, err.Error(), "máy đang khóa thu nhận: quá nhiều hồ sơ chưa lên trạm — hãy đồng bộ")
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error(), err.Error())
		return
	}
	ans := SaveAnswer{Receipt: rc, Record: &rec}
	if c, _ := a.ix.capture(rc.ID); c != nil {
		ans.Record = c.Record // as saved: with its biometric references
	}
	pid := req.Resident
	if pid == "" {
		pid = rec.PersonalID
	}
	if pid, fs := enrollment.NormalizePersonalID(pid); !fs.Rejected() && a.toMarkEnrolled(pid) {
		st, err := a.node.SetStatus(residents.Status{PersonalID: pid, Status: residents.Enrolled, Capture: rc.ID.String(), Officer: o.ID})
		if err == nil {
			ans.Status = &st
		} else {
			a.cfg.Logger.Warn("capture saved; its status on the list was not", "entry", rc.ID, "err", err)
		}
	}
	localapi.WriteJSON(w, http.StatusOK, ans)
}

// toMarkEnrolled reports whether pid is on the commune's list and not
// marked enrolled yet (a correction of a capture marks nothing again).
func (a *App) toMarkEnrolled(pid string) bool {
	var ok bool
	a.ix.withCensus(func(c *residents.Census) {
		p, found := c.Person(pid)
		ok = found && p.Row != nil && !p.Removed && (p.Status == nil || p.Status.Status != residents.Enrolled)
	})
	return ok
}

// CaptureView is one capture for the receipt screen and the amend form.
type CaptureView struct {
	Entry    string                 `json:"entry"`
	Current  bool                   `json:"current"`
	Record   *enrollment.Enrollment `json:"record"`
	State    string                 `json:"state"` // "laptop" or "hub"
	Findings enrollment.Findings    `json:"findings"`
}

func (a *App) serveCapture(w http.ResponseWriter, r *http.Request, _ node.Officer) {
	id, err := replication.ParseEntryID(r.URL.Query().Get("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "id: "+err.Error(), "id: "+err.Error())
		return
	}
	c, cur := a.ix.capture(id)
	if c == nil {
		writeError(w, http.StatusNotFound, "no such capture on this laptop", "không có hồ sơ này trên máy")
		return
	}
	acked := a.hubAck(id.Origin)
	state := "laptop"
	switch {
	case a.node.Receipted(id):
		state = "province"
	case id.Seq <= acked:
		state = "hub"
	}
	localapi.WriteJSON(w, http.StatusOK, CaptureView{Entry: id.String(), Current: cur, Record: c.Record, State: state,
		Findings: enrollment.Validate(c.Record, enrollment.Context{Now: c.HLC.Time()})})
}

// hubAck is the highest seq of origin o a hub is known to hold.
func (a *App) hubAck(o replication.OriginID) uint64 {
	if a.cfg.Peers == nil {
		return 0
	}
	peers, err := a.cfg.Peers()
	if err != nil {
		return 0
	}
	seq, _ := replicator.HubAck(a.node.Dir().Log, peers, o)
	return seq
}

// ResidentsAnswer is a page of the commune's list.
type ResidentsAnswer struct {
	Commune string             `json:"commune"`
	Counts  residents.Counts   `json:"counts"`
	People  []residents.Person `json:"people"`
	Total   int                `json:"total"`
	Listed  bool               `json:"listed"` // a list is held at all
}

// serveResidents lists the commune's people of a category, filtered by a
// search of the name, ID number, household or address.
func (a *App) serveResidents(w http.ResponseWriter, r *http.Request, _ node.Officer) {
	q := r.URL.Query()
	var cats []residents.Category
	switch q.Get("category") {
	case "", "all":
	case "missing":
		cats = []residents.Category{residents.CatMissing}
	case "accounted":
		cats = []residents.Category{residents.CatAccounted}
	case "enrolled":
		cats = []residents.Category{residents.CatEnrolled}
	case "not-eligible":
		cats = []residents.Category{residents.CatNotEligible}
	default:
		writeError(w, http.StatusBadRequest, "category: missing, accounted, enrolled, not-eligible or all", "nhóm không hợp lệ")
		return
	}
	limit := MaxListItems
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < limit {
		limit = n
	}
	search := enrollment.FoldKey(strings.TrimSpace(q.Get("q")))
	commune := a.node.Dir().Config.Unit
	ans := ResidentsAnswer{Commune: commune, People: []residents.Person{}}
	a.ix.withCensus(func(c *residents.Census) {
		ans.Counts = c.Commune(commune)
		ans.Listed = ans.Counts.Residents > 0
		people, _ := c.People(commune, 0, cats...)
		for _, p := range people {
			if search != "" && !matches(p, search) {
				continue
			}
			ans.Total++
			if len(ans.People) < limit {
				ans.People = append(ans.People, p)
			}
		}
	})
	sort.SliceStable(ans.People, func(i, j int) bool { return houseKey(ans.People[i]) < houseKey(ans.People[j]) })
	localapi.WriteJSON(w, http.StatusOK, ans)
}

func matches(p residents.Person, folded string) bool {
	if strings.Contains(p.PersonalID, folded) {
		return true
	}
	if r := p.Resident; r != nil {
		for _, s := range []string{r.FullName, r.Household, r.Address} {
			if strings.Contains(enrollment.FoldKey(s), folded) {
				return true
			}
		}
	}
	return false
}

func houseKey(p residents.Person) string {
	if p.Resident == nil {
		return "\uffff" + p.PersonalID
	}
	return enrollment.NameKey(p.Resident.Address) + "\x00" + p.Resident.Household + "\x00" + p.PersonalID
}

// statusRequest is an officer's status of a person on the list.
type statusRequest struct {
	PersonalID string   `json:"personal_id"`
	Status     string   `json:"status"`
	Note       string   `json:"note,omitempty"`
	Supersedes []string `json:"supersedes,omitempty"`
}

func (a *App) serveStatus(w http.ResponseWriter, r *http.Request, o node.Officer) {
	var req statusRequest
	if !localapi.DecodeJSON(w, r, &req, 8<<10) {
		return
	}
	rc, err := a.node.SetStatus(residents.Status{PersonalID: req.PersonalID, Status: residents.Code(req.Status), Note: req.Note,
		Officer: o.ID, Supersedes: req.Supersedes})
	var rej *node.RejectedError
	switch {
	case errors.As(err, &rej):
		localapi.WriteJSON(w, http.StatusUnprocessableEntity, CheckAnswer{Findings: rej.Findings, Matches: []Match{}})
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error(), err.Error())
	default:
		localapi.WriteJSON(w, http.StatusOK, map[string]any{"receipt": rc})
	}
}

// Queue is the queue view: what is still on the laptop, what reached a
// hub, the backlog and its drain time, the freeze warning.
type Queue struct {
	Backlog node.Backlog `json:"backlog"`
	// MaxUnsynced and MaxUnsyncedDays are the freeze limits: captures
	// stop past them until a hub has what the laptop holds.
	MaxUnsynced     int         `json:"max_unsynced_entries"`
	MaxUnsyncedDays int         `json:"max_unsynced_days"`
	OldestDays      int         `json:"oldest_days"`
	OnLaptop        int         `json:"on_laptop"` // own entries no hub holds
	AtHub           uint64      `json:"at_hub"`    // own entries a hub holds
	Hubs            []HubLink   `json:"hubs"`
	Recent          []QueueItem `json:"recent"`
	Captures        int         `json:"captures"` // captures standing on this laptop
	// Dossiers are this laptop's dossiers the province has not yet
	// confirmed complete (its receipts), with their images' bytes.
	Dossiers node.DossierBacklog `json:"dossiers"`
}

// HubLink is one hub this laptop syncs with.
type HubLink struct {
	Name         string    `json:"name"`
	Tier         string    `json:"tier,omitempty"`
	Connected    bool      `json:"connected"`
	LastContact  time.Time `json:"last_contact"`
	LastError    string    `json:"last_error,omitempty"`
	Backlog      uint64    `json:"backlog_entries"`
	BacklogBytes int64     `json:"backlog_bytes"`
	DrainSeconds float64   `json:"drain_seconds"`
	RateBytes    float64   `json:"rate_bytes_per_sec"`
}

// QueueItem is one recent capture of this laptop and where it is.
type QueueItem struct {
	Entry      string    `json:"entry"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	PersonalID string    `json:"personal_id,omitempty"`
	CapturedAt time.Time `json:"captured_at"`
	// State is "laptop" (no hub has it yet), "hub" (a hub holds it) or
	// "province" (the province confirmed the dossier complete: its
	// receipt came back down).
	State string `json:"state"`
}

func (a *App) serveQueue(w http.ResponseWriter, r *http.Request, _ node.Officer) {
	var qv Queue
	b, err := a.node.Backlog()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), err.Error())
		return
	}
	qv.Backlog, qv.OnLaptop, qv.AtHub = b, b.Unsynced, b.AckedSeq
	qv.MaxUnsynced, qv.MaxUnsyncedDays = b.Policy.MaxUnsyncedEntries, int(b.Policy.MaxUnsyncedAge.Hours()/24)
	qv.OldestDays = int(b.OldestAge.Hours() / 24)
	if a.cfg.Peers != nil {
		if peers, err := a.cfg.Peers(); err == nil {
			for _, p := range peers {
				if p.Role != string(replication.RoleHub) {
					continue
				}
				qv.Hubs = append(qv.Hubs, HubLink{Name: p.Name, Tier: p.Tier, Connected: p.Connected, LastContact: p.LastContact, LastError: p.LastError,
					Backlog: p.BacklogEntries, BacklogBytes: p.BacklogBytes, DrainSeconds: p.DrainSeconds, RateBytes: p.RateBytesPerSec})
			}
		}
	}
	_, qv.Captures = a.ix.counts()
	if db, err := a.node.DossierBacklog(); err == nil {
		qv.Dossiers = db
	}
	dir := a.node.Dir()
	o := dir.Signer.Origin()
	head, err := dir.Log.Head(o)
	if err == nil {
		for seq := head.Seq; seq > 1 && len(qv.Recent) < MaxQueueItems; seq-- {
			id := replication.EntryID{Origin: o, Seq: seq}
			c, _ := a.ix.capture(id)
			if c == nil {
				continue
			}
			item := QueueItem{Entry: id.String(), Kind: c.Kind.String(), Name: c.Record.FullName, PersonalID: c.Record.PersonalID,
				CapturedAt: c.Record.Capture.CapturedAt, State: "laptop"}
			switch {
			case a.node.Receipted(id):
				item.State = "province"
			case seq <= b.AckedSeq:
				item.State = "hub"
			}
			qv.Recent = append(qv.Recent, item)
		}
	}
	if qv.Hubs == nil {
		qv.Hubs = []HubLink{}
	}
	if qv.Recent == nil {
		qv.Recent = []QueueItem{}
	}
	localapi.WriteJSON(w, http.StatusOK, qv)
}
