package service

import (
	"crypto/cipher"
	"encoding/base64"
	"strings"
)

// sealWith encrypts secret with aead, bound to aad (the record it belongs to), in the
// "v1.<base64>" form both the staff authenticator secrets and the councils' payment keys use.
func sealWith(aead cipher.AEAD, aad []byte, secret string) string {
	return "v1." + base64.RawURLEncoding.EncodeToString(aead.Seal(nil, nil, []byte(secret), aad))
}

// openWith reverses sealWith; anything that does not open (another record, another server key,
// an unknown format) is bad.
func openWith(aead cipher.AEAD, aad []byte, sealed string, bad error) (string, error) {
	raw, ok := strings.CutPrefix(sealed, "v1.")
	if !ok {
		return "", bad
	}
	ct, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return "", bad
	}
	pt, err := aead.Open(nil, nil, ct, aad)
	if err != nil {
		return "", bad
	}
	return string(pt), nil
}
