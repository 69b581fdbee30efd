// The one absl::Status -> grpc::Status mapping: every code 1:1, message kept.
#include <QtTest>

#include "client/status.h"
#include "core/model.h"
#include "server/status.h"

class TestStatusMapping : public QObject {
  Q_OBJECT
 private slots:
  void everyCodeMapsOneToOne_data() {
    QTest::addColumn<int>("absl");
    QTest::addColumn<int>("grpc");
    const struct {
      absl::StatusCode a;
      grpc::StatusCode g;
      const char* name;
    } table[] = {
        {absl::StatusCode::kOk, grpc::StatusCode::OK, "OK"},
        {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED, "CANCELLED"},
        {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN, "UNKNOWN"},
        {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT,
         "INVALID_ARGUMENT"},
        {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED,
         "DEADLINE_EXCEEDED"},
        {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
        {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS"},
        {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
         "PERMISSION_DENIED"},
        {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED,
         "RESOURCE_EXHAUSTED"},
        {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION,
         "FAILED_PRECONDITION"},
        {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED, "ABORTED"},
        {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE"},
        {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED"},
        {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL, "INTERNAL"},
        {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
        {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS, "DATA_LOSS"},
        {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
    };
    for (const auto& row : table) {
      QTest::newRow(row.name) << static_cast<int>(row.a) << static_cast<int>(row.g);
    }
  }

  void everyCodeMapsOneToOne() {
    QFETCH(int, absl);
    QFETCH(int, grpc);
    const auto code = static_cast<absl::StatusCode>(absl);
    const absl::Status in = code == absl::StatusCode::kOk
                                ? absl::OkStatus()
                                : absl::Status(code, "movements[3].quantity: must be > 0");
    const grpc::Status out = depot::server::toGrpcStatus(in);
    QCOMPARE(static_cast<int>(out.error_code()), grpc);
    if (code != absl::StatusCode::kOk) {
      QCOMPARE(QString::fromStdString(out.error_message()),
               QStringLiteral("movements[3].quantity: must be > 0"));
    } else {
      QVERIFY(out.ok());
      QVERIFY(out.error_message().empty());
    }
  }

  void unknownCodeBecomesUnknown() {
    const grpc::Status out =
        depot::server::toGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd"));
    QCOMPARE(out.error_code(), grpc::StatusCode::UNKNOWN);
    QCOMPARE(QString::fromStdString(out.error_message()), QStringLiteral("odd"));
  }

  // Admission control's refusal carries a standard google.rpc.RetryInfo in
  // the status details; the client library reads it back.
  void overloadCarriesRetryInfo() {
    const grpc::Status g = depot::server::toGrpcStatus(depot::overloaded("queue full", 1'234'567));
    QCOMPARE(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    QCOMPARE(g.error_message(), std::string("queue full"));
    QVERIFY(!g.error_details().empty());
    QCOMPARE(depot::client::retryDelayOf(g).count(), 1234);
    const grpc::Status plain = depot::server::toGrpcStatus(absl::ResourceExhaustedError("x"));
    QVERIFY(plain.error_details().empty());
    QCOMPARE(depot::client::retryDelayOf(plain).count(), 0);
  }
};

QTEST_GUILESS_MAIN(TestStatusMapping)
#include "test_status_mapping.moc"
