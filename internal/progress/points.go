package progress

import "strings"

// Points for a finished reading, by how much time and effort it usually takes: a training or
// certification is days of exercises, a book is many evenings, an essay or paper is an hour or
// two of careful reading, and a talk is under an hour of watching.
const (
	TrainingPoints = 8
	BookPoints     = 5
	EssayPoints    = 3
	TalkPoints     = 2
)

// MilestonePoints is what one experience milestone is worth. Milestones are the point of the
// path (the readings support them), so one is worth more than any single reading.
const MilestonePoints = 20

// ReadingPoints is what a finished reading of the given kind is worth: "training", "book",
// "essay" (also "paper") or "talk", singular or plural, any case. Unknown kinds are worth 0
// rather than an error so a new curriculum section never breaks scoring.
func ReadingPoints(kind string) int {
	switch strings.TrimSuffix(strings.ToLower(strings.TrimSpace(kind)), "s") {
	case "training", "certification", "course":
		return TrainingPoints
	case "book":
		return BookPoints
	case "essay", "paper":
		return EssayPoints
	case "talk":
		return TalkPoints
	}
	return 0
}

// Score totals the points for the kinds of the readings done (one element per reading) and the
// number of milestones done.
func Score(doneReadingKinds []string, milestonesDone int) int {
	total := max(milestonesDone, 0) * MilestonePoints
	for _, k := range doneReadingKinds {
		total += ReadingPoints(k)
	}
	return total
}

// NextReading is the first reading in path order that is neither done nor skipped; ok is false
// once every reading is one or the other.
func NextReading(order []string, done, skipped map[string]bool) (id string, ok bool) {
	for _, id := range order {
		if !done[id] && !skipped[id] {
			return id, true
		}
	}
	return "", false
}
