package config

import "testing"

func TestPayPageOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, want string }{
		{"", ""},
		{"https://publicapi.payments.service.gov.uk", "https://card.payments.service.gov.uk"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"https://pay.example.org/api", "https://pay.example.org"},
	} {
		if got := (Config{PayBaseURL: tc.base}).PayPageOrigin(); got != tc.want {
			t.Errorf("PayPageOrigin(%q) = %q, want %q", tc.base, got, tc.want)
		}
	}
	c, _, err := Load("test", []string{"--pay-base-url", "ftp://x"}, func(string) string { return "" }, nil, nil)
	if err == nil {
		t.Errorf("Load accepted pay-base-url ftp://x: %+v", c)
	}
}
