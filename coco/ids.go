package coco

// ImageIDs numbers a selection of samples as segtool's COCO export does:
// image ids 1..N in the order given, which is the manifest order of the
// selection (split and limit applied, before any shard). A results file's
// image_id refers to these ids, so eval and export both number through
// this function.
func ImageIDs(sampleIDs []string) map[string]int {
	ids := make(map[string]int, len(sampleIDs))
	for i, s := range sampleIDs {
		ids[s] = i + 1
	}
	return ids
}

// PersonID is the category id of a person, the one category of segtool's
// datasets.
const PersonID = 1

// Categories are the categories of a segtool COCO file.
func Categories() []Category { return []Category{{ID: PersonID, Name: "person"}} }
