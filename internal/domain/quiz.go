package domain

import "github.com/herts-msp/taxi-renewals/internal/leaflet"

// The check questions on a leaflet version are marked here and nowhere else: the leaflet package
// only reads them from the source file, the service records a pass, and the web pages parse the
// form and show the result.

// NoAnswer is the answer of a question left unanswered.
const NoAnswer = -1

// QuizResult is the outcome of one check question.
type QuizResult struct {
	Answered bool // an option of the question was chosen
	Correct  bool // the option chosen is the right one
}

// MarkQuiz marks answers (per question, the index of the option chosen; NoAnswer, a missing
// answer or an index that is not one of the question's options counts as unanswered). The quiz
// is passed when every question is answered correctly.
func MarkQuiz(quiz []leaflet.Question, answers []int) (results []QuizResult, passed bool) {
	results = make([]QuizResult, len(quiz))
	passed = true
	for i, q := range quiz {
		if i < len(answers) && answers[i] >= 0 && answers[i] < len(q.Options) {
			results[i] = QuizResult{Answered: true, Correct: answers[i] == q.Correct}
		}
		passed = passed && results[i].Correct
	}
	return results, passed
}
