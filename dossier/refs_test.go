package dossier_test

import (
	"encoding/json"
	"errors"
	"testing"

	"fieldsync/dossier"
	"fieldsync/enrollment"
	"fieldsync/replication"
	"fieldsync/replication/blob"
	"fieldsync/replication/epoch"
)

func ref(slot string, b []byte) enrollment.BlobRef {
	id := blob.IDOf(b)
	return enrollment.BlobRef{Kind: slot, SHA256: id.Hash.String(), Size: id.Size}
}

func entry(t *testing.T, kind replication.Kind, v any) replication.Entry {
	t.Helper()
	p, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return replication.Entry{Kind: kind, Schema: 1, Seq: 2, Origin: replication.OriginID{1}, Payload: p}
}

func TestRefsOf(t *testing.T) {
	face, r2, slap, iris := []byte("face"), []byte("r2"), []byte("slap"), []byte("iris")
	rec := enrollment.Enrollment{FullName: "Nguyễn Văn A", Biometrics: []enrollment.BlobRef{
		ref("iris_r", iris), ref("slap_r4", slap),
		{Kind: "finger_l2", Exception: "amputated"},
		ref("finger_r2", r2), ref("face", face),
		ref("finger_r3", slap), // the same image twice: listed once
	}}
	want := []string{"face", "finger_r2", "slap_r4", "iris_r"}
	enroll := entry(t, replication.KindEnroll, rec)
	amend := entry(t, replication.KindAmend, enrollment.Amendment{Target: "x", Record: rec})
	re := epoch.NewReissue(&enroll)
	rp, err := re.Encode()
	if err != nil {
		t.Fatal(err)
	}
	reissue := replication.Entry{Kind: replication.KindReissue, Payload: rp}
	for name, e := range map[string]replication.Entry{"enroll": enroll, "amend": amend, "reissue": reissue} {
		refs, err := dossier.RefsOf(&e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.Slot)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: slots %v, want %v", name, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: slots %v, want %v", name, got, want)
			}
		}
		if refs[0].ID != blob.IDOf(face) || refs[0].Rank != 0 || refs[1].Rank != 1 {
			t.Fatalf("%s: first refs %+v", name, refs[:2])
		}
	}
	void := entry(t, replication.KindVoid, enrollment.Voiding{Target: "x", Reason: "y"})
	if refs, err := dossier.RefsOf(&void); refs != nil || err != nil {
		t.Fatalf("void: %v %v", refs, err)
	}
	none := entry(t, replication.KindEnroll, enrollment.Enrollment{FullName: "B"})
	if refs, err := dossier.RefsOf(&none); refs != nil || err != nil {
		t.Fatalf("no biometrics: %v %v", refs, err)
	}
}

func TestRefsOfRefusesBadRefs(t *testing.T) {
	good := ref("face", []byte("x"))
	for name, r := range map[string]enrollment.BlobRef{
		"short hash":   {Kind: "face", SHA256: "abc", Size: 10},
		"zero size":    {Kind: "face", SHA256: good.SHA256, Size: 0},
		"huge size":    {Kind: "face", SHA256: good.SHA256, Size: blob.MaxSize + 1},
		"no hash":      {Kind: "face", Size: 10},
		"not hex hash": {Kind: "face", SHA256: "g" + good.SHA256[1:], Size: 10},
	} {
		e := entry(t, replication.KindEnroll, enrollment.Enrollment{Biometrics: []enrollment.BlobRef{r}})
		if _, err := dossier.RefsOf(&e); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
	bad := replication.Entry{Kind: replication.KindEnroll, Payload: []byte(`{"biometrics":7}`)}
	if _, err := dossier.RefsOf(&bad); !errors.Is(err, replication.ErrMalformed) {
		t.Fatalf("malformed payload: %v", err)
	}
}

func FuzzRefsOf(f *testing.F) {
	f.Add(uint8(replication.KindEnroll), []byte(`{"biometrics":[{"kind":"face","sha256":"`+ref("face", []byte("x")).SHA256+`","size":1}]}`))
	f.Add(uint8(replication.KindAmend), []byte(`{"target":"a:1","record":{"biometrics":[{"kind":"finger_l2","exception":"amputated"}]}}`))
	f.Add(uint8(replication.KindReissue), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, kind uint8, payload []byte) {
		e := replication.Entry{Kind: replication.Kind(kind), Payload: payload}
		refs, err := dossier.RefsOf(&e)
		if err != nil {
			return
		}
		seen := map[blob.Hash]bool{}
		for i, r := range refs {
			if r.Check() != nil || seen[r.Hash] || (i > 0 && refs[i-1].Rank > r.Rank) {
				t.Fatalf("bad refs %+v", refs)
			}
			seen[r.Hash] = true
		}
	})
}
