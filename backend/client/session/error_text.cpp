#include "session/error_text.h"

#include "client/status.h"

namespace depot::session {
namespace {

QString codeWords(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return QStringLiteral("done");
    case absl::StatusCode::kInvalidArgument: return QStringLiteral("invalid input");
    case absl::StatusCode::kNotFound: return QStringLiteral("not found (unknown item, location or record)");
    case absl::StatusCode::kAlreadyExists: return QStringLiteral("already exists (the request id was used for something else)");
    case absl::StatusCode::kFailedPrecondition: return QStringLiteral("not possible in the current state");
    case absl::StatusCode::kResourceExhausted: return QStringLiteral("the server is busy; try again shortly");
    case absl::StatusCode::kAborted: return QStringLiteral("not applied because another part of the batch failed");
    case absl::StatusCode::kUnavailable: return QStringLiteral("the server cannot be reached");
    case absl::StatusCode::kDeadlineExceeded: return QStringLiteral("the server did not answer in time");
    case absl::StatusCode::kPermissionDenied: return QStringLiteral("not allowed for this user");
    case absl::StatusCode::kUnauthenticated: return QStringLiteral("not signed in (check the token)");
    case absl::StatusCode::kCancelled: return QStringLiteral("cancelled");
    case absl::StatusCode::kOutOfRange: return QStringLiteral("out of range");
    case absl::StatusCode::kUnimplemented: return QStringLiteral("not supported by this server");
    default: return QStringLiteral("an internal error occurred on the server");
  }
}

}  // namespace

QString userText(const absl::Status& status, const QString& action) {
  if (status.ok()) return codeWords(absl::StatusCode::kOk);
  QString text = codeWords(status.code());
  const QString detail = QString::fromStdString(std::string(status.message())).trimmed();
  if (!detail.isEmpty()) text += QStringLiteral(": ") + detail;
  if (!action.isEmpty()) text = QStringLiteral("Could not %1 — %2").arg(action, text);
  return text;
}

QString userTextForCode(int code, const std::string& message) {
  return userText(client::fromCode(code, message));
}

}  // namespace depot::session
