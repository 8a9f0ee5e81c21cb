// Package configs holds segtool's built-in presets, embedded in the
// binary so that a preset named on the command line works from any
// folder, not only from inside the repository.
package configs

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed augment/*.yaml
var files embed.FS

// augmentDir is where the augment pipelines live, in the repository and in
// the embedded tree.
const augmentDir = "augment"

// AugmentPresets are the names of the built-in augment pipelines, sorted:
// the file names in configs/augment without ".yaml".
func AugmentPresets() []string {
	entries, _ := fs.ReadDir(files, augmentDir) // the directory is embedded: it cannot fail
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// AugmentPreset returns the YAML of the built-in pipeline name, which may
// be given with or without its ".yaml"; ok is false for a name that is not
// a preset (a path with a separator never is).
func AugmentPreset(name string) (data []byte, ok bool) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return nil, false
	}
	b, err := files.ReadFile(path.Join(augmentDir, strings.TrimSuffix(name, ".yaml")+".yaml"))
	return b, err == nil
}
