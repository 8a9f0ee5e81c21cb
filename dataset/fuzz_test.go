package dataset

import (
	"bytes"
	"testing"
)

// FuzzReadRows parses arbitrary bytes as a manifest and checks its rows
// for containment: neither may panic, every row has its line, and a row
// that passes the checks has a safe id and local paths.
func FuzzReadRows(f *testing.F) {
	f.Add([]byte(`{"id":"a","split":"train","image":"images/a.png","mask":"masks/a.png","sha256":{"images/a.png":"00"}}` + "\n"))
	f.Add([]byte(`{"id":"../../x","image":"../outside/x.png","mask":"/etc/passwd"}` + "\n" + `{"id":"../../x"}`))
	f.Add([]byte("\n\n{\"id\":\"a\"}\n{\"id\":\"a\"}\n{\"id\":"))
	f.Add([]byte(`{"id":1}`))
	root := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, lines, err := parseRows(b, "fuzz")
		if err != nil {
			return
		}
		if len(lines) != len(rows) {
			t.Fatalf("%d rows, %d line numbers", len(rows), len(lines))
		}
		problems, bad := checkRows(root, rows, lines)
		seen := map[string]bool{}
		for i, s := range rows {
			if bad[i] {
				continue
			}
			if CheckID(s.ID) != nil || seen[s.ID] {
				t.Fatalf("row %d (%q) passed with an unsafe or duplicate id", lines[i], s.ID)
			}
			seen[s.ID] = true
			for _, rel := range s.Files() {
				if CheckRel(rel) != nil {
					t.Fatalf("row %d passed with path %q", lines[i], rel)
				}
			}
		}
		for _, p := range problems {
			if p.Line < 1 || !bytes.Contains([]byte(p.String()), []byte(ManifestFile)) {
				t.Fatalf("problem without its line: %+v", p)
			}
		}
		// What parsed encodes and parses back to as many rows.
		if enc, err := EncodeRows(rows); err == nil {
			back, _, err := parseRows(enc, "again")
			if err != nil || len(back) != len(rows) {
				t.Fatalf("re-parse: %d rows of %d, %v", len(back), len(rows), err)
			}
		}
	})
}

// FuzzParsePASCALBoxes feeds arbitrary annotation text to the Penn-Fudan
// parser: no panic, and a box for every parseable line.
func FuzzParsePASCALBoxes(f *testing.F) {
	f.Add([]byte(`# Compatible with PASCAL Annotation Version 1.00
Image size (X x Y x C) : 559 x 536 x 3
Bounding box for object 2 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (420, 171) - (535, 486)
Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (160, 182) - (302, 431)
`))
	f.Add([]byte("Bounding box for object 1 : garbage"))
	f.Add([]byte("Bounding box for object 99999999999999999999 x (Xmin, Ymin) - (Xmax, Ymax) : (-5, 0) - (99999999999999999999, 1)"))
	f.Fuzz(func(t *testing.T, b []byte) {
		boxes, err := ParsePASCALBoxes(b)
		if err != nil {
			return
		}
		n := 0
		for _, line := range bytes.Split(b, []byte("\n")) {
			if pascalBox.Match(bytes.TrimSpace(line)) {
				n++
			}
		}
		if len(boxes) > n {
			t.Fatalf("%d boxes from %d box lines", len(boxes), n)
		}
	})
}
