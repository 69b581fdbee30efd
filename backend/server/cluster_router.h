// ClusterRouter: lets any cluster node accept any mutating request. It sits
// in front of the node's InventoryService: the part of a request on shards
// this node serves goes to the local core, the rest is forwarded over gRPC to
// the node holding the shard's lease (marked x-depot-forwarded, so the owner
// serves it locally and never forwards again).
//
//   Apply          movements grouped by owner; results merged in request
//                  order. A group whose owner cannot be reached gets
//                  UNAVAILABLE outcomes (retry with the same request_id).
//   Reserve,       one owner: the whole request goes there. Several owners:
//   Commit,        each gets its part (x-depot-part: the whole request's
//   Release        fingerprint and the part's shards), so every shard
//                  remembers the same request as on one node; a Reserve that
//                  fails on one part is undone on the others (the saga's
//                  `<id>~undo` release), exactly as across shards locally.
//
// A request in flight while a shard changes hands fails with UNAVAILABLE
// ("not served" or the old owner unreachable); the client's retry with the
// same request_id is applied once, since the new owner loads the shard's
// idempotency records with it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/service.h"
#include "depot/v1/inventory.grpc.pb.h"
#include "depot/v1/stocktake.grpc.pb.h"

namespace depot::server {

// Metadata keys of node-to-node calls.
inline constexpr const char* kForwardedHeader = "x-depot-forwarded";  // value: sender node id
inline constexpr const char* kPartHeader = "x-depot-part";  // "<fp>;<has_lines>;<s1,s2,..>"

struct ShardRoute {
  bool local = true;      // served here (or unknown: the local core answers)
  std::string node_id;    // the lease holder
  std::string endpoint;   // its gRPC address
};

class ClusterRouter {
 public:
  using RouteFn = std::function<ShardRoute(ShardId)>;
  ClusterRouter(InventoryService& core, std::string self_node, RouteFn route);
  ~ClusterRouter();

  void apply(std::vector<MovementRequest> movements, bool linked,
             Done<absl::StatusOr<std::vector<MovementResult>>> done, bool flow_controlled = false);
  void reserve(ReserveRequest request, Done<OrderResult> done);
  void commitOrder(CommitRequest request, Done<OrderResult> done);
  void releaseOrder(ReleaseRequest request, Done<OrderResult> done);

  ShardRoute route(ShardId shard) const { return m_route(shard); }
  // The stubs of a peer node (cached channel per endpoint).
  v1::Inventory::Stub& inventory(const std::string& endpoint);
  v1::Stocktake::Stub& stocktake(const std::string& endpoint);
  // A context for a forwarded call: the marker, and the caller's deadline
  // (at most kForwardDeadline).
  std::unique_ptr<grpc::ClientContext> forwardContext() const;

  static constexpr std::chrono::seconds kForwardDeadline{10};

 private:
  struct Peer {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Inventory::Stub> inventory;
    std::unique_ptr<v1::Stocktake::Stub> stocktake;
  };
  Peer& peer(const std::string& endpoint);
  // endpoint ("" = served here) -> the shards among `shards` its node owns.
  std::map<std::string, std::vector<ShardId>> groupByOwner(const std::vector<ShardId>& shards) const;
  // Runs an order operation split over its owners (several) and merges.
  template <typename Req>
  void splitOrder(Req request, std::map<std::string, std::vector<ShardId>> groups,
                  std::uint64_t fingerprint, bool has_lines, Done<OrderResult> done);
  void sendOrderPart(const std::string& endpoint, const ReserveRequest& r, Done<OrderResult> done);
  void sendOrderPart(const std::string& endpoint, const CommitRequest& r, Done<OrderResult> done);
  void sendOrderPart(const std::string& endpoint, const ReleaseRequest& r, Done<OrderResult> done);

  InventoryService& m_core;
  const std::string m_self;
  RouteFn m_route;
  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<Peer>> m_peers;  // by endpoint, guarded by m_mutex
};

// "x-depot-part" value <-> RequestPart.
std::string encodePart(const RequestPart& part);
std::optional<RequestPart> decodePart(std::string_view value);
absl::Status fromGrpc(const grpc::Status& s);

}  // namespace depot::server
