package wsgate

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/internal/cache"
)

// apiBodySlack bounds a request body on /api/*, in bytes, beyond the
// publish size limit (room for the channel name and JSON punctuation).
const apiBodySlack = 4 << 10

// apiRequest checks an /api/* request (POST, API key, a body of
// MaxPublishSize and apiBodySlack at most) and decodes its JSON body into
// v. On failure it has answered the request and returns false.
func (s *Server) apiRequest(w http.ResponseWriter, r *http.Request, v any) bool {
	return s.apiRequestUpTo(w, r, v, int64(s.cfg.MaxPublishSize)+apiBodySlack)
}

// apiRequestUpTo is apiRequest with a body of limit bytes at most.
func (s *Server) apiRequestUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		apiError(w, http.StatusMethodNotAllowed, CodeBadRequest, "use POST")
		return false
	}
	if !s.authorizedAPI(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		apiError(w, http.StatusUnauthorized, CodeForbidden, "missing or wrong API key")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, "body too large")
			return false
		}
		apiError(w, http.StatusBadRequest, CodeBadRequest, "cannot read body")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		apiError(w, http.StatusBadRequest, CodeBadRequest, "body must be a JSON object: "+err.Error())
		return false
	}
	return true
}

// apiPublish serves POST /api/publish: {"channel":"…","data":…} from a
// backend, authorised by "Authorization: Bearer <Config.APIKey>".
func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Channel string          `json:"channel"`
		Data    json.RawMessage `json:"data"`
	}
	if !s.apiRequest(w, r, &req) {
		return
	}
	if status, code, msg := s.checkAPIPublication(req.Channel, req.Data); status != 0 {
		apiError(w, status, code, msg)
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
	apiJSON(w, struct {
		Seq   uint64 `json:"seq"`
		Epoch string `json:"epoch"`
	}{p.Seq, p.Epoch})
}

// apiInvalidate serves POST /api/cache/invalidate: {"method","args"?} or
// {"prefix"}, answered with {"dropped":N} (entries dropped on this node;
// the invalidation reaches every node through the broker).
func (s *Server) apiInvalidate(w http.ResponseWriter, r *http.Request) {
	var req cache.Invalidation
	if !s.apiRequest(w, r, &req) {
		return
	}
	n, err := s.invalidate(req)
	switch {
	case errors.Is(err, ErrCacheDisabled):
		apiError(w, http.StatusConflict, CodeUnavailable, "the response cache is off")
	case err != nil:
		apiError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
	default:
		apiJSON(w, struct {
			Dropped int `json:"dropped"`
		}{n})
	}
}

func apiJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// authorizedAPI reports whether r carries "Authorization: Bearer
// <Config.APIKey>". The scheme is matched without regard to case (RFC
// 7235, section 2.1), and the key is compared by its SHA-256 digest in
// constant time, so the time taken tells nothing about the key, its
// length included.
func (s *Server) authorizedAPI(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimLeft(token, " ")))
	return subtle.ConstantTimeCompare(got[:], s.apiKeyHash[:]) == 1
}

func apiError(w http.ResponseWriter, status int, code ErrorCode, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": Error{Code: code, Message: message}})
}
