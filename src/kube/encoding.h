// The byte encodings a kubeconfig carries: base64 "-data" fields and PEM certificates and keys.
// Internal to src/kube. All functions are thread-safe and never throw.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::kube {

// Decodes standard base64 with padding as Go's encoding/json decodes a []byte field
// (base64.StdEncoding): '\r' and '\n' anywhere are ignored, padding is required, nonzero
// trailing bits are accepted. Errors: kInvalidArgument "illegal base64 data at input byte N"
// (N counts from 0 in `text`, newlines included). The message never quotes the input, which
// may be a private key.
Result<std::string> Base64Decode(std::string_view text);

// Standard base64 with padding and no line breaks.
std::string Base64Encode(std::string_view data);

// OK when `pem` holds at least one PEM "CERTIFICATE" block that parses as an X.509 certificate
// (what Go's certutil requires of a CA bundle). Errors: kInvalidArgument naming what was missing.
Status CheckPemCertificates(std::string_view pem);

// OK when `cert_pem` holds a certificate, `key_pem` an unencrypted private key (PKCS#1, PKCS#8
// or SEC1), and the key belongs to the first certificate, as Go's tls.X509KeyPair checks.
// Errors: kInvalidArgument ("client key does not match the client certificate", ...).
// Never prompts for a passphrase.
Status CheckPemKeyPair(std::string_view cert_pem, std::string_view key_pem);

}  // namespace gpufleet::kube
