package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/agora-ledger/agora/internal/identity"
	"github.com/agora-ledger/agora/internal/ledger"
)

// didResolutionPattern is the route of DID Resolution's HTTP(S) binding,
// which the identity module's resolve query declares.
const didResolutionPattern = "GET /1.0/identifiers/{did}"

// didStatus maps a DID Resolution error code to its HTTP status (DID
// Resolution, HTTP(S) binding).
var didStatus = map[string]int{
	identity.InvalidDid:                 http.StatusBadRequest,
	identity.InvalidDidURL:              http.StatusBadRequest,
	identity.InvalidOptions:             http.StatusBadRequest,
	identity.NotFound:                   http.StatusNotFound,
	identity.RepresentationNotSupported: http.StatusNotAcceptable,
	identity.MethodNotSupported:         http.StatusNotImplemented,
	identity.InternalError:              http.StatusInternalServerError,
}

// didResolver serves the resolve query q as DID Resolution's HTTP(S)
// binding: the Accept header chooses a result (resolution, or
// dereferencing for a DID URL: a #fragment, percent-encoded as %23, or a
// service parameter) or the document (or dereferenced resource) alone;
// every error is a result whose metadata carries a DID Resolution error
// code, with that code's status (didStatus); a deactivated DID answers
// 410. With proof=1 the answer is the query's usual {value, proof}.
func (s *Server) didResolver(module string, q ledger.Query) handlerFunc {
	proven := s.query(module, q)
	return func(r *http.Request) (any, int, error) {
		raw := r.PathValue("did")
		mediaType := negotiate(r.Header.Values("Accept"), identity.MediaTypes)
		// A DID URL is dereferenced, and so is a DID whose dereferencing
		// result or representation is asked for: only a resolution
		// result is the resolve function's (DID Resolution, HTTP(S)
		// binding).
		isURL := strings.Contains(raw, "#") || r.URL.Query().Get("service") != "" || mediaType == identity.DereferencingType ||
			identity.IsRepresentation(mediaType)
		resultType := resultMediaType(mediaType, isURL)
		fail := func(code, msg string) (any, int, error) {
			var body any = identity.Failed(code, msg)
			if isURL {
				if code == identity.InvalidDid {
					code = identity.InvalidDidURL
				}
				body = identity.FailedDereferencing(code, msg)
			}
			return typed{mediaType: resultType, v: body}, didStatus[code], nil
		}
		if mediaType == "" {
			return fail(identity.RepresentationNotSupported, fmt.Sprintf("this resolver serves none of the media types %q accepts: it serves %s",
				r.Header.Values("Accept"), strings.Join(identity.MediaTypes, ", ")))
		}
		if _, _, err := identity.ParseDIDURL(raw); err != nil {
			return fail(identity.ErrorCode(err), identity.Message(err))
		}
		if wantProof(r) {
			return proven(r)
		}
		v, err := s.view()
		if err != nil {
			return nil, 0, err
		}
		defer v.Close()
		ans, err := q.Run(ledger.NewReadView(v, module, nil), func(name string) string {
			if p := r.PathValue(name); p != "" {
				return p
			}
			return r.URL.Query().Get(name)
		})
		if ans == nil {
			code := identity.ErrorCode(err)
			msg := identity.Message(err)
			if code == identity.InternalError {
				e := toError(err)
				s.log.Error("DID resolution failed", "did", raw, "err", err)
				code, msg = identity.InternalError, e.Message
			}
			return fail(code, msg)
		}
		status := http.StatusOK
		if err != nil {
			status = toError(err).Status // 410 for a deactivated DID
		}
		if r, ok := ans.(*identity.Resolution); ok && isURL {
			ans = r.Dereferencing()
		}
		if !identity.IsRepresentation(mediaType) {
			return typed{mediaType: resultType, v: ans}, status, nil
		}
		switch a := ans.(type) {
		case *identity.Resolution:
			return typed{mediaType: mediaType, v: a.Document}, status, nil
		case *identity.Dereferencing:
			if res, ok := a.Content.(*identity.Resource); ok && mediaType != identity.ContentType {
				plain := *res
				plain.Context = nil // plain JSON: no JSON-LD context
				return typed{mediaType: mediaType, v: &plain}, status, nil
			}
			return typed{mediaType: mediaType, v: a.Content}, status, nil
		}
		return nil, 0, fmt.Errorf("the resolve query answered a %T", ans)
	}
}

// resultMediaType is the media type of a result served for the
// negotiated mediaType: the negotiated one if it is a result type (the
// dereferencing type for a DID URL, the resolution type for a DID),
// otherwise (a representation, or nothing acceptable) the result type
// of DID Resolution.
func resultMediaType(mediaType string, isURL bool) string {
	switch mediaType {
	case identity.ResolutionType, identity.DereferencingType, "":
	default:
		if !identity.IsRepresentation(mediaType) {
			return mediaType
		}
	}
	if isURL {
		return identity.DereferencingType
	}
	return identity.ResolutionType
}

// contextDocument serves Agora's JSON-LD context, which DID documents
// name in their @context.
func contextDocument(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/ld+json")
	w.Write(identity.ContextDocument)
}

// varyAccept marks the answers of h as depending on the Accept header,
// for caches.
func varyAccept(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		h.ServeHTTP(w, r)
	})
}
