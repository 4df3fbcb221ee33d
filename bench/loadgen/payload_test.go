package main

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"testing"
)

// The JSON payload is valid JSON of about the asked size, differs per message, carries its
// sequence number and stamp where parsePayload finds them, and comes back whole through a
// permessage-deflate round trip (compressed as RFC 7692 7.2.1 says, inflated by inflater).
func TestJSONPayloadDeflateRoundTrip(t *testing.T) {
	var z inflater
	total, packed := 0, 0
	for seq := 0; seq < 50; seq++ {
		p := jsonPayload(seq, 1234567890123+int64(seq), 2048)
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Fatalf("seq %d: invalid JSON: %v\n%s", seq, err, p)
		}
		if len(p) < 1900 || len(p) > 2200 {
			t.Fatalf("seq %d: %d bytes, want about 2048", seq, len(p))
		}
		if s, st, ok := parsePayload(p); !ok || s != seq || st != 1234567890123+int64(seq) {
			t.Fatalf("seq %d: parsePayload = %d %d %v", seq, s, st, ok)
		}
		if seq > 0 && bytes.Equal(p[40:], jsonPayload(seq-1, 1234567890123+int64(seq), 2048)[40:]) {
			t.Fatalf("seq %d: same body as the previous message", seq)
		}
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, 6)
		w.Write(p)
		w.Flush()
		c := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		out, err := z.inflate(c)
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("seq %d: inflate: %v (%d bytes back of %d)", seq, err, len(out), len(p))
		}
		total, packed = total+len(p), packed+len(c)
	}
	t.Logf("JSON payload: %d bytes per message, deflated to %.0f%%", total/50, 100*float64(packed)/float64(total))
}
