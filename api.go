package wsgate

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// apiBodySlack bounds a request body on /api/*, in bytes, beyond the
// publish size limit (room for the channel name and JSON punctuation).
const apiBodySlack = 4 << 10

// apiHandler serves POST /api/publish: {"channel":"…","data":…} from a
// backend, authorised by "Authorization: Bearer <Config.APIKey>".
func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		apiError(w, http.StatusMethodNotAllowed, CodeBadRequest, "use POST")
		return
	}
	if !s.authorizedAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		apiError(w, http.StatusUnauthorized, CodeForbidden, "missing or wrong API key")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(s.cfg.MaxPublishSize)+apiBodySlack))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "body too large")
			return
		}
		apiError(w, http.StatusBadRequest, CodeBadRequest, "cannot read body")
		return
	}
	var req struct {
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, CodeBadRequest, "body must be a JSON object with channel and data")
		return
	}
	if len(req.Data) == 0 {
		apiError(w, http.StatusBadRequest, CodeBadRequest, "data is required")
		return
	}
	if len(req.Data) > s.cfg.MaxPublishSize {
		apiError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "data too large")
		return
	}
	p, err := s.Publish(r.Context(), req.Channel, req.Data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			apiError(w, http.StatusBadRequest, e.Code, e.Message)
			return
		}
		apiError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Seq   uint64 `json:"seq"`
		Epoch string `json:"epoch"`
	}{p.Seq, p.Epoch})
}

func (s *Server) authorizedAPI(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.APIKey)) == 1
}

func apiError(w http.ResponseWriter, status int, code ErrorCode, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": Error{Code: code, Message: message}})
}
