package backend

import (
	"net/http"
	"testing"
	"unicode/utf8"
)

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60", "s-maxage=1, max-age=2, stale-while-revalidate=3", `private="x", no-cache`,
		`no-cache="a, b", max-age=60`, `max-age="9`, ",,=,", "MAX-AGE = 7 ,Private", "max-age=99999999999999999999",
	} {
		f.Add(s, "0")
	}
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}, "Age": {age}}
		got := ParseCacheControl(h)
		if got.TTL() < 0 || got.StaleFor() < 0 || got.MaxAge < 0 || got.SMaxAge < 0 || got.Age < 0 {
			t.Fatalf("negative duration in %+v", got)
		}
		if (got.NoStore || got.NoCache) && got.TTL() != 0 {
			t.Fatalf("TTL %v despite no-store/no-cache", got.TTL())
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"x"}}`, `{"message":"y"}`, `{"error":"z"}`, `{"error":{"message":7},"message":"outer"}`,
		"{\"message\":\"a\xffb\"}", `[]`, `null`, `{"error":null}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, status := range []int{400, 404, 500, 599} {
			e := statusError(status, body)
			if e.Message == "" || len(e.Message) > MaxMessageLen || !utf8.ValidString(e.Message) {
				t.Fatalf("message %q: empty, too long or not UTF-8", e.Message)
			}
			if e.Code == "" {
				t.Fatal("no code")
			}
		}
	})
}
