package bench

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"fieldsync/enrollment"
	"fieldsync/enrollment/synth"
	"fieldsync/replication/syncproto"
	"fieldsync/replication/wire"
)

// BlobCompressResult is what zstd makes of one kind of image file, sent
// as the blob lane sends it: in chunks, each framed by the codec that
// compresses a chunk only when that makes it smaller.
type BlobCompressResult struct {
	Kind  string `json:"kind"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
	// Framed: the chunk frames' bytes (headers included) over the file
	// bytes; ChunksSmaller: chunks zstd made smaller.
	Framed        float64 `json:"framed_over_raw"`
	ChunksSmaller int     `json:"chunks_smaller"`
	Chunks        int     `json:"chunks"`
	// Zstd19: `zstd -19` of each whole file over the raw bytes (what the
	// best a general compressor does, for reference; -1 if the CLI is
	// missing).
	Zstd19 float64 `json:"zstd19_over_raw"`
}

// BlobCompress measures the files of dir (if set) grouped by extension,
// and images made here: JPEG portraits and PNG fingerprints from Go's own
// encoders, over synthetic images with the texture of faces and ridges;
// and the generator's dossier files (random data in real containers: the
// control, which must not shrink).
func BlobCompress(dir string, chunk int) ([]BlobCompressResult, error) {
	if chunk == 0 {
		chunk = syncproto.DefaultBlobChunkBytes
	}
	groups := map[string][][]byte{}
	if dir != "" {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			kind := "files " + strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
			groups[kind] = append(groups[kind], b)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 6 {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, portrait(r, 480+40*i, 640+40*i), &jpeg.Options{Quality: 90}); err != nil {
			return nil, err
		}
		groups["jpeg (Go encoder, q90)"] = append(groups["jpeg (Go encoder, q90)"], b.Bytes())
		b.Reset()
		if err := png.Encode(&b, fingerprint(r, 512, 512)); err != nil {
			return nil, err
		}
		groups["png (Go encoder)"] = append(groups["png (Go encoder)"], b.Bytes())
	}
	g, err := synth.New(synth.Config{Count: 4, Seed: 3})
	if err != nil {
		return nil, err
	}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		for _, f := range rec.Files() {
			if f.Data != nil {
				kind := "synth " + string(enrollmentFormat(f.Name))
				groups[kind] = append(groups[kind], f.Data)
			}
		}
	}
	codec, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		return nil, err
	}
	var out []BlobCompressResult
	for kind, files := range groups {
		res := BlobCompressResult{Kind: kind, Files: len(files), Zstd19: -1}
		var framed, z19 int64
		for _, f := range files {
			res.Bytes += int64(len(f))
			for off := 0; off < len(f); off += chunk {
				data := f[off:min(len(f), off+chunk)]
				fr, err := codec.AppendFrame(nil, &wire.BlobChunk{Hash: [32]byte{1}, Offset: uint64(off), Data: data})
				if err != nil {
					return nil, err
				}
				framed += int64(len(fr))
				res.Chunks++
				if fr[2]&1 != 0 { // algo: zstd
					res.ChunksSmaller++
				}
			}
			if n, err := zstd19Size(f); err == nil {
				z19 += n
			} else {
				z19 = -1 << 62
			}
		}
		res.Framed = float64(framed) / float64(res.Bytes)
		if z19 > 0 {
			res.Zstd19 = float64(z19) / float64(res.Bytes)
		}
		out = append(out, res)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out, nil
}

func enrollmentFormat(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg":
		return enrollment.FormatJPEG
	case ".jp2", ".j2k":
		return enrollment.FormatJP2
	case ".wsq":
		return enrollment.FormatWSQ
	case ".png":
		return enrollment.FormatPNG
	}
	return "other"
}

// portrait draws a face-like image: smooth shading, an oval, features,
// and sensor noise (what makes real photographs dense after JPEG).
func portrait(r *rand.Rand, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w)/2, float64(h)*0.45
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)-cx)/(float64(w)*0.3), (float64(y)-cy)/(float64(h)*0.38)
			d := dx*dx + dy*dy
			bg := 200 - 40*float64(y)/float64(h)
			var c [3]float64
			if d < 1 {
				shade := 170 + 50*math.Cos(d*2) - 20*dx
				c = [3]float64{shade + 25, shade, shade - 20}
				if (math.Abs(dx-0.35) < 0.12 || math.Abs(dx+0.35) < 0.12) && math.Abs(dy+0.25) < 0.05 {
					c = [3]float64{40, 30, 30} // eyes
				}
			} else {
				c = [3]float64{bg - 30, bg - 10, bg + 20}
			}
			n := r.NormFloat64() * 6
			img.Set(x, y, color.RGBA{clamp(c[0] + n), clamp(c[1] + n), clamp(c[2] + n), 255})
		}
	}
	return img
}

// fingerprint draws ridges: a curved sinusoid with noise, 8-bit gray.
func fingerprint(r *rand.Rand, w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := float64(x)-float64(w)/2, float64(y)-float64(h)*0.6
			rad := math.Sqrt(dx*dx + dy*dy*1.6)
			v := 128 + 100*math.Sin(rad/4.5+math.Atan2(dy, dx)*0.5) + r.NormFloat64()*18
			img.SetGray(x, y, color.Gray{clamp(v)})
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

// BlobCompressTable renders the results.
func BlobCompressTable(rs []BlobCompressResult, chunk int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %6s %10s %8s %16s %12s\n", "KIND", "FILES", "BYTES", "CHUNKS", "SMALLER CHUNKS", "ZSTD -19")
	for _, r := range rs {
		z := "-"
		if r.Zstd19 > 0 {
			z = fmt.Sprintf("%.3f", r.Zstd19)
		}
		fmt.Fprintf(&b, "%-28s %6d %10d %8d %9d (%.3f) %12s\n", r.Kind, r.Files, r.Bytes, r.Chunks, r.ChunksSmaller, r.Framed, z)
	}
	fmt.Fprintf(&b, "(chunks of %d bytes as the lane frames them: frame bytes over file bytes in parentheses; zstd -19 of each whole file over its bytes)\n", chunk)
	return b.String()
}
