// Reactor factories for Inventory's streaming RPCs (see inventory_streams.cpp).
#pragma once

#include "depot/v1/inventory.grpc.pb.h"
#include "server/service_env.h"

namespace depot::server {

grpc::ServerBidiReactor<v1::ApplyStreamRequest, v1::ApplyStreamResponse>* newApplyStreamReactor(
    ServiceEnv& env);
grpc::ServerWriteReactor<v1::SnapshotChunk>* newSnapshotReactor(ServiceEnv& env,
                                                                const v1::SnapshotRequest& req);
grpc::ServerWriteReactor<v1::WatchEvent>* newWatchReactor(ServiceEnv& env,
                                                          const v1::WatchRequest& req);

}  // namespace depot::server
