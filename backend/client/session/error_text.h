// The one place where a status from the server (or the client library)
// becomes words for a person. Views never show status numbers or code names.
#pragma once

#include <QString>

#include "absl/status/status.h"

namespace depot::session {

// "The server refused: not enough stock (…)" style text. `action` names what
// was attempted, e.g. "acknowledge alert 12"; may be empty.
QString userText(const absl::Status& status, const QString& action = {});

// A per-line code from a batch response (google.rpc.Code numeric value).
QString userTextForCode(int code, const std::string& message);

}  // namespace depot::session
