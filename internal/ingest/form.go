package ingest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"
)

// formValues returns the parameters of a form-style endpoint: the query
// string, overridden by the body's fields. The body may be URL-encoded,
// multipart, or a JSON object (whose string values are taken as is and
// whose object/array values as their JSON text).
func (h *Handler) formValues(r *http.Request, body []byte) (url.Values, error) {
	vals := r.URL.Query()
	if len(body) == 0 {
		return vals, nil
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return vals, nil
			}
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(part)
			if err != nil {
				return nil, err
			}
			if name := part.FormName(); name != "" {
				vals.Set(name, string(b))
			}
		}
	case ct == "application/json" || (ct == "" || ct == "text/plain") && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")):
		p := h.parsers.Get()
		defer h.parsers.Put(p)
		v, err := p.ParseBytes(body)
		if err != nil {
			return nil, err
		}
		o, err := v.Object()
		if err != nil {
			return nil, err
		}
		o.Visit(func(k []byte, v *fastjson.Value) {
			if v.Type() == fastjson.TypeString {
				vals.Set(string(k), string(v.GetStringBytes()))
			} else {
				vals.Set(string(k), string(v.MarshalTo(nil)))
			}
		})
		return vals, nil
	default:
		q, err := url.ParseQuery(strings.TrimSpace(string(body)))
		if err != nil {
			return nil, err
		}
		for k, v := range q {
			vals[k] = v
		}
		return vals, nil
	}
}
