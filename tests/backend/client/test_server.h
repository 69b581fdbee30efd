// Test helpers: start an in-process gRPC server on a free loopback port in
// 22000-22999 (below the ephemeral range), and find a port nothing listens on.
#pragma once

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>

namespace depot::test {

inline std::mt19937& portGenerator() {
  static std::mt19937 gen{std::random_device{}()};
  return gen;
}

// Builds and starts a server with `service` on a random free port of
// 22000-22999; nullptr after 200 tries. Port reuse is off so two servers can
// never share a port.
inline std::unique_ptr<grpc::Server> startServer(grpc::Service* service, int& port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int candidate = 22000 + static_cast<int>(portGenerator()() % 1000);
    grpc::ServerBuilder builder;
    int selected = 0;
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort("127.0.0.1:" + std::to_string(candidate),
                             grpc::InsecureServerCredentials(), &selected);
    builder.RegisterService(service);
    auto server = builder.BuildAndStart();
    if (server && selected == candidate) {
      port = candidate;
      return server;
    }
  }
  return nullptr;
}

// A port in 22000-22999 that nothing listens on right now (bind succeeds).
inline int deadPort() {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int candidate = 22000 + static_cast<int>(portGenerator()() % 1000);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(candidate));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return candidate;
  }
  return 0;
}

inline std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace depot::test
