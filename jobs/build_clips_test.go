package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"gocv.io/x/gocv"
)

const clipW, clipH = 8, 4

// clipAlpha is frame k's alpha: a ramp whose values straddle the mask
// threshold, so the mask (alpha >= 128) is known by hand: pixel i has
// alpha (i*9 + k*7) % 256.
func clipAlpha(k int) []byte {
	a := make([]byte, clipW*clipH)
	for i := range a {
		a[i] = byte((i*9 + k*7) % 256)
	}
	return a
}

func clipMask(alpha []byte) []byte {
	m := make([]byte, len(alpha))
	for i, v := range alpha {
		if v >= 128 {
			m[i] = 255
		}
	}
	return m
}

// writeClipFrame writes frame k of a clip: its BGR picture at img and its
// alpha (or mask) at label, when label is not "".
func writeClipFrame(t *testing.T, img, label string, k int, seed uint64) {
	t.Helper()
	fixture.WriteMat(t, img, fixture.Mat(t, clipH, clipW, gocv.MatTypeCV8UC3, fixture.SyntheticBGR(clipW, clipH, seed)))
	if label != "" {
		fixture.WritePlane(t, label, clipAlpha(k), clipW, clipH)
	}
}

func frameText(f *int) string {
	if f == nil {
		return "none"
	}
	return fmt.Sprint(*f)
}

func clipRows(d *dataset.Dataset) map[string]dataset.Sample {
	rows := map[string]dataset.Sample{}
	for _, s := range d.Samples {
		rows[s.ID] = s
	}
	return rows
}

// TestBuildVideoMatte builds RVM's evaluation layout: frames ordered by
// number (not by name), clip and frame fields, a frame without its pha
// rejected with its path while the frames after it keep their index, JPEG
// frames, and fgr/bgr layers kept byte for byte as fg/ and bg/.
func TestBuildVideoMatte(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "ds")
	// clipA: unpadded numbers, where name order would put 10 before 2.
	for k, n := range []string{"1", "2", "10"} {
		writeClipFrame(t, filepath.Join(src, "clipA", "com", n+".png"), filepath.Join(src, "clipA", "pha", n+".png"), k, uint64(k))
	}
	// clipB: JPEG frames, frame 0002 without pha, fgr and bgr layers.
	layers := map[string][]byte{}
	for k := range 4 {
		n := fmt.Sprintf("%04d", k)
		pha := filepath.Join(src, "clipB", "pha", n+".png")
		if k == 2 {
			pha = ""
		}
		writeClipFrame(t, filepath.Join(src, "clipB", "com", n+".jpg"), pha, k, uint64(10+k))
		for _, l := range []string{"fgr", "bgr"} {
			px := fixture.Pseudo(3*clipW*clipH, uint32(100*k+len(l)+int(l[0])))
			layers[l+n] = px
			fixture.WriteMat(t, filepath.Join(src, "clipB", l, n+".png"), fixture.Mat(t, clipH, clipW, gocv.MatTypeCV8UC3, px))
		}
	}

	f, err := dataset.LookupFormat("auto", src)
	if err != nil || f.Name() != "videomatte" {
		t.Fatalf("auto-detect: %v, %v; want videomatte", f, err)
	}
	sum := buildT(t, src, out, BuildOptions{Format: "videomatte"})
	d := validateDataset(t, out)
	rows := clipRows(d)
	want := map[string]struct {
		clip         string
		frame, alpha int
		ext          string
	}{
		"clipA_1": {"clipA", 0, 0, ".png"}, "clipA_2": {"clipA", 1, 1, ".png"}, "clipA_10": {"clipA", 2, 2, ".png"},
		"clipB_0000": {"clipB", 0, 0, ".jpg"}, "clipB_0001": {"clipB", 1, 1, ".jpg"}, "clipB_0003": {"clipB", 3, 3, ".jpg"},
	}
	if len(rows) != len(want) || sum.Samples != len(want) {
		t.Fatalf("rows %v (summary %d), want %d", d.Samples, sum.Samples, len(want))
	}
	for id, w := range want {
		s, ok := rows[id]
		if !ok {
			t.Errorf("no row %s", id)
			continue
		}
		if s.Clip != w.clip || s.Frame == nil || *s.Frame != w.frame {
			t.Errorf("%s: clip %q frame %s, want %q %d", id, s.Clip, frameText(s.Frame), w.clip, w.frame)
		}
		if filepath.Ext(s.Image) != w.ext {
			t.Errorf("%s: image %s, want a %s", id, s.Image, w.ext)
		}
		if got, _, _ := fixture.ReadPlane(t, d.Path(s.Alpha)); !bytes.Equal(got, clipAlpha(w.alpha)) {
			t.Errorf("%s: alpha is not the source's pha", id)
		}
		if got, _, _ := fixture.ReadPlane(t, d.Path(s.Mask)); !bytes.Equal(got, clipMask(clipAlpha(w.alpha))) {
			t.Errorf("%s: mask is not pha >= 128", id)
		}
	}
	for _, id := range []string{"clipB_0000", "clipB_0003"} {
		s := rows[id]
		var rec dataset.Layers
		if err := json.Unmarshal(s.Extra["layers"], &rec); err != nil || rec.FG != "fg/"+id+".png" || rec.BG != "bg/"+id+".png" {
			t.Fatalf("%s: extra.layers %s (%v)", id, s.Extra["layers"], err)
		}
		for l, rel := range map[string]string{"fgr": rec.FG, "bgr": rec.BG} {
			if s.SHA256[rel] == "" {
				t.Errorf("%s: %s has no sha256 in the row", id, rel)
			}
			m := gocv.IMRead(d.Path(rel), gocv.IMReadUnchanged)
			got := fixture.BytesOf(t, m)
			m.Close()
			if !bytes.Equal(got, layers[l+strings.TrimPrefix(id, "clipB_")]) {
				t.Errorf("%s: %s differs from the source's %s", id, rel, l)
			}
		}
	}
	if _, ok := rows["clipA_1"].Extra["layers"]; ok {
		t.Errorf("clipA has no fgr/bgr but its rows list layers")
	}
	rejects, _ := dataset.ReadRejects(out)
	var missing []dataset.Reject
	for _, r := range rejects {
		if r.Code == dataset.CodeMissingPartner {
			missing = append(missing, r)
		}
	}
	// The pha-less frame, its fgr and bgr listed with it.
	if len(missing) != 1 || strings.Join(missing[0].Source, " ") != "clipB/com/0002.jpg clipB/fgr/0002.png clipB/bgr/0002.png" ||
		!strings.Contains(missing[0].Reason, "clipB/pha/0002") {
		t.Errorf("missing-partner rejects %+v, want clipB/com/0002.jpg with its fgr and bgr, naming clipB/pha/0002", missing)
	}
}

// TestBuildFramesLayout builds the frames layout: alphas/ in one clip,
// masks/ in another, a frame without its label rejected, and a stray file
// beside the clips rejected rather than dropped.
func TestBuildFramesLayout(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "ds")
	for k := range 3 {
		n := fmt.Sprintf("f.%02d", k) // a dot in the stem stays in the id
		writeClipFrame(t, filepath.Join(src, "walk", "frames", n+".jpg"), filepath.Join(src, "walk", "alphas", n+".png"), k, uint64(k))
		mask := filepath.Join(src, "wave", "masks", n+".png")
		if k == 1 {
			mask = ""
		}
		writeClipFrame(t, filepath.Join(src, "wave", "frames", n+".png"), "", k, uint64(5+k))
		if mask != "" {
			fixture.WritePlane(t, mask, clipMask(clipAlpha(k)), clipW, clipH)
		}
	}
	fixture.WritePlane(t, filepath.Join(src, "stray.png"), clipAlpha(0), clipW, clipH)
	if f, err := dataset.LookupFormat("auto", src); err != nil || f.Name() != "frames" {
		t.Fatalf("auto-detect: %v, %v; want frames", f, err)
	}
	buildT(t, src, out, BuildOptions{Format: "frames"})
	d := validateDataset(t, out)
	rows := clipRows(d)
	for id, frame := range map[string]int{"walk_f.00": 0, "walk_f.01": 1, "walk_f.02": 2, "wave_f.00": 0, "wave_f.02": 2} {
		s, ok := rows[id]
		if !ok || s.Frame == nil || *s.Frame != frame || s.Clip != strings.Split(id, "_")[0] {
			t.Errorf("%s: clip %q frame %s, want frame %d", id, s.Clip, frameText(s.Frame), frame)
			continue
		}
		got, _, _ := fixture.ReadPlane(t, d.Path(s.Mask))
		if !bytes.Equal(got, clipMask(clipAlpha(frame))) {
			t.Errorf("%s: mask differs from the hand-made one", id)
		}
		if (s.Alpha != "") != strings.HasPrefix(id, "walk") {
			t.Errorf("%s: alpha %q; only walk has alphas", id, s.Alpha)
		}
	}
	if len(rows) != 5 {
		t.Errorf("%d rows, want 5", len(rows))
	}
	rejects, _ := dataset.ReadRejects(out)
	sources := map[string]string{}
	for _, r := range rejects {
		sources[r.Source[0]] = r.Code
	}
	if sources["wave/frames/f.01.png"] != dataset.CodeMissingPartner || sources["stray.png"] != dataset.CodeNotImage || len(rejects) != 2 {
		t.Errorf("rejects %+v, want wave/frames/f.01.png (missing-partner) and stray.png (not-image)", rejects)
	}
}

// TestBuildClipSplits proves that a clip never straddles splits: with
// per-frame draws 12 clips of 4 frames would almost surely split some clip
// (each frame independently in one of three splits), and all clips in one
// split would make the test vacuous, so both are checked.
func TestBuildClipSplits(t *testing.T) {
	src := t.TempDir()
	for c := range 12 {
		for k := range 4 {
			n := fmt.Sprintf("%04d", k)
			clip := fmt.Sprintf("clip%02d", c)
			writeClipFrame(t, filepath.Join(src, clip, "com", n+".png"), filepath.Join(src, clip, "pha", n+".png"), k, uint64(c*4+k))
		}
	}
	for _, seed := range []int64{1, 2} {
		out := filepath.Join(t.TempDir(), "ds")
		buildT(t, src, out, BuildOptions{Format: "videomatte", Seed: seed, Ratios: dataset.Ratios{0.4, 0.3, 0.3}})
		d := openDataset(t, out)
		splitOf := map[string]string{}
		used := map[string]bool{}
		for _, s := range d.Samples {
			if prev, ok := splitOf[s.Clip]; ok && prev != s.Split {
				t.Errorf("seed %d: clip %s is in %s and %s", seed, s.Clip, prev, s.Split)
			}
			splitOf[s.Clip] = s.Split
			used[s.Split] = true
		}
		if len(splitOf) != 12 || len(d.Samples) != 48 || len(used) < 2 {
			t.Errorf("seed %d: %d clips, %d rows, splits used %v", seed, len(splitOf), len(d.Samples), used)
		}
	}
}

// TestBuildVideoMatteGroups reads RobustVideoMatting's full evaluation
// tree, videomatte_512x288/videomatte_{motion,static}/<clip>/..., from its
// top: each group's clips are named <group>/<clip>, and a folder in a
// group that is no clip is a reject.
func TestBuildVideoMatteGroups(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "ds")
	for _, g := range []string{"videomatte_motion", "videomatte_static"} {
		for k := range 2 {
			n := fmt.Sprintf("%04d", k)
			writeClipFrame(t, filepath.Join(src, g, "0000", "com", n+".png"), filepath.Join(src, g, "0000", "pha", n+".png"), k, uint64(k))
		}
	}
	fixture.Mkdirs(t, src, "videomatte_static/notes")
	if f, err := dataset.LookupFormat("auto", src); err != nil || f.Name() != "videomatte" {
		t.Fatalf("auto-detect: %v, %v; want videomatte", f, err)
	}
	buildT(t, src, out, BuildOptions{Format: "videomatte"})
	d := validateDataset(t, out)
	var got []string
	for _, s := range d.Samples {
		got = append(got, fmt.Sprintf("%s=%s/%s", s.ID, s.Clip, frameText(s.Frame)))
	}
	want := "videomatte_motion_0000_0000=videomatte_motion/0000/0 videomatte_motion_0000_0001=videomatte_motion/0000/1 " +
		"videomatte_static_0000_0000=videomatte_static/0000/0 videomatte_static_0000_0001=videomatte_static/0000/1"
	if strings.Join(got, " ") != want {
		t.Errorf("rows %v, want %s", got, want)
	}
	rejects, _ := dataset.ReadRejects(out)
	if len(rejects) != 1 || rejects[0].Source[0] != "videomatte_static/notes" {
		t.Errorf("rejects %+v, want videomatte_static/notes", rejects)
	}
}
