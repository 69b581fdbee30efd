#include "server/service_env.h"

#include "server/cluster_router.h"
#include "server/log.h"
#include "server/status.h"
#include "server/str.h"
#include "server/wire_diagnosis.h"

namespace depot::server {

bool UnaryCall::enter(int limit) {
  const std::int64_t now_serving = m_metrics->calls_in_flight.fetch_add(1) + 1;
  if (limit > 0 && now_serving > limit) {
    m_metrics->calls_in_flight.fetch_sub(1);
    m_metrics->calls_shed.fetch_add(1, std::memory_order_relaxed);
    m_shed = true;
    return false;
  }
  m_counted = true;
  return true;
}

void UnaryCall::finish(const absl::Status& status) const {
  if (m_counted) m_metrics->calls_in_flight.fetch_sub(1);
  absl::Status final = status;
  if (final.ok() && !m_state->serialize()) {
    final = absl::InternalError("response: serialization failed");
  }
  // A call shed at arrival is counted in calls_shed, not in the latency of
  // the calls served.
  if (!m_shed) {
    m_metrics->observe(
        m_rpc, std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count());
  }
  m_reactor->Finish(toGrpcStatus(final));
}

bool UnaryCall::forwarded() const {
  return m_ctx->client_metadata().count(kForwardedHeader) > 0;
}

std::optional<RequestPart> UnaryCall::part() const {
  auto it = m_ctx->client_metadata().find(kPartHeader);
  if (it == m_ctx->client_metadata().end()) return std::nullopt;
  return decodePart(std::string_view(it->second.data(), it->second.size()));
}

absl::Status malformedRequest(const google::protobuf::Descriptor* type,
                              const grpc::ByteBuffer& wire) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (wire.Dump(&slices).ok())
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  const std::string field = findInvalidUtf8Field(type, bytes);
  if (!field.empty()) return absl::InvalidArgumentError(strCat(field, ": not valid UTF-8"));
  return absl::InvalidArgumentError(
      strCat("request: not a valid ", type->full_name(), " message (malformed protobuf)"));
}

}  // namespace depot::server
