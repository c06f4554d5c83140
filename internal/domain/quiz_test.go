package domain

import (
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/leaflet"
)

func TestMarkQuiz(t *testing.T) {
	quiz := []leaflet.Question{
		{Prompt: "a", Options: []string{"x", "y"}, Correct: 1},
		{Prompt: "b", Options: []string{"x", "y", "z"}, Correct: 0},
	}
	for _, tc := range []struct {
		name    string
		answers []int
		want    []QuizResult
		passed  bool
	}{
		{"all right", []int{1, 0}, []QuizResult{{true, true}, {true, true}}, true},
		{"one wrong", []int{0, 0}, []QuizResult{{true, false}, {true, true}}, false},
		{"one unanswered", []int{1, NoAnswer}, []QuizResult{{true, true}, {false, false}}, false},
		{"an index past the options counts as unanswered", []int{1, 3}, []QuizResult{{true, true}, {false, false}}, false},
		{"a negative index counts as unanswered", []int{-7, 0}, []QuizResult{{false, false}, {true, true}}, false},
		{"too few answers", []int{1}, []QuizResult{{true, true}, {false, false}}, false},
		{"extra answers are ignored", []int{1, 0, 5}, []QuizResult{{true, true}, {true, true}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, passed := MarkQuiz(quiz, tc.answers)
			if passed != tc.passed || len(got) != len(tc.want) {
				t.Fatalf("MarkQuiz(%v) = %v, %v; want %v, %v", tc.answers, got, passed, tc.want, tc.passed)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("question %d: %+v, want %+v", i+1, got[i], tc.want[i])
				}
			}
		})
	}
	if _, passed := MarkQuiz(nil, nil); !passed {
		t.Error("a leaflet without questions: nothing to get wrong, so passed")
	}
}
