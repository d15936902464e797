package decode

// decodeSTIXBody decodes a STIX body: one bundle, or NDJSON of bundles.
func decodeSTIXBody(body []byte, dst []Event) ([]Event, []LineError, error) {
	return dst, nil, nil
}
