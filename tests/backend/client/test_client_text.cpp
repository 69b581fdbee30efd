// Unit tests of depot::client_text: CSV reading, quantity/time/duration/
// location parsing, and request-id generation.
#include <QtTest/QtTest>
#include <set>
#include <string>

#include "client/csv.h"
#include "client/parse.h"
#include "client/request_id.h"

using namespace depot::client;

namespace {
QString msg(const absl::Status& st) { return QString::fromStdString(std::string(st.message())); }
}  // namespace

class TestClientText : public QObject {
  Q_OBJECT

 private slots:
  // ---------------------------------------------------------------- CSV
  void csvPlain() {
    auto rows = parseCsv("sku,description\nA-1,Widget\nB-2,Gadget\n");
    QVERIFY(rows.ok());
    QCOMPARE(rows->size(), std::size_t{3});
    QCOMPARE((*rows)[1].fields, (std::vector<std::string>{"A-1", "Widget"}));
    QCOMPARE((*rows)[2].line, std::size_t{3});
  }

  void csvQuotingAndEmbeddedSeparators() {
    auto rows = parseCsv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\"\"\n");
    QVERIFY2(rows.ok(), qPrintable(msg(rows.status())));
    QCOMPARE(rows->size(), std::size_t{3});
    QCOMPARE((*rows)[1].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
    // The record after a quoted newline starts on physical line 4.
    QCOMPARE((*rows)[2].line, std::size_t{4});
    QCOMPARE((*rows)[2].fields, (std::vector<std::string>{"last", "", ""}));
  }

  void csvCrlfAndBom() {
    auto rows = parseCsv("\xEF\xBB\xBFsku,unit\r\nA,ea\r\n\r\nB,\"k\r\ng\"\r\n");
    QVERIFY(rows.ok());
    QCOMPARE(rows->size(), std::size_t{3});
    QCOMPARE((*rows)[0].fields[0], std::string("sku"));  // BOM stripped
    QCOMPARE((*rows)[1].fields, (std::vector<std::string>{"A", "ea"}));
    QCOMPARE((*rows)[2].line, std::size_t{4});              // blank line 3 skipped
    QCOMPARE((*rows)[2].fields[1], std::string("k\r\ng"));  // CRLF inside quotes is data
  }

  void csvNoTrailingNewlineAndTrailingComma() {
    auto rows = parseCsv("a,b\n1,");
    QVERIFY(rows.ok());
    QCOMPARE((*rows)[1].fields, (std::vector<std::string>{"1", ""}));
  }

  void csvMalformed() {
    auto unterminated = parseCsv("a,b\n\"open,1\n2,3\n");
    QVERIFY(!unterminated.ok());
    QVERIFY2(msg(unterminated.status()).startsWith("line 2: unterminated"),
             qPrintable(msg(unterminated.status())));
    auto stray = parseCsv("a,b\nx\"y,1\n");
    QVERIFY(!stray.ok());
    QVERIFY(msg(stray.status()).startsWith("line 2: field 1: quote inside"));
    auto after = parseCsv("a,b\n\"x\"y,1\n");
    QVERIFY(!after.ok());
    QVERIFY(msg(after.status()).contains("after closing quote"));
  }

  void csvHeaderCheck() {
    auto rows = parseCsv("sku,description,unit,reorder_point,reorder_qty\n");
    QVERIFY(rows.ok());
    QVERIFY(checkCsvHeader(rows->front(),
                           {"sku", "description", "unit", "reorder_point", "reorder_qty"})
                .ok());
    auto bad = parseCsv("sku,desc,unit\n");
    const auto st = checkCsvHeader(bad->front(), {"sku", "description", "unit"});
    QVERIFY(!st.ok());
    QVERIFY(msg(st).contains("expected 'sku,description,unit'"));
    // Wrong column count is a bad header too.
    QVERIFY(!checkCsvHeader(bad->front(), {"sku", "desc"}).ok());
  }

  void csvStreaming() {
    CsvParser parser("h\n1\n2\n");
    CsvRecord r;
    int n = 0;
    while (true) {
      auto more = parser.next(r);
      QVERIFY(more.ok());
      if (!*more) break;
      ++n;
    }
    QCOMPARE(n, 3);
  }

  // ---------------------------------------------------------------- quantities
  void quantityValid() {
    QCOMPARE(*parseQuantity("q", "12", QtyRule::kPositive), std::int64_t{12});
    QCOMPARE(*parseQuantity("q", " 7 ", QtyRule::kPositive), std::int64_t{7});
    QCOMPARE(*parseQuantity("q", "+5", QtyRule::kNonZero), std::int64_t{5});
    QCOMPARE(*parseQuantity("q", "-3", QtyRule::kNonZero), std::int64_t{-3});
    QCOMPARE(*parseQuantity("q", "0", QtyRule::kNonNegative), std::int64_t{0});
    QCOMPARE(*parseQuantity("q", "1000000000000", QtyRule::kPositive), kMaxQuantity);
  }

  void quantityInvalid() {
    for (const char* text : {"", "abc", "1.5", "12x", "1e3", "--1", " ", "0x10"}) {
      auto q = parseQuantity("QTY", text, QtyRule::kPositive);
      QVERIFY2(!q.ok(), text);
      QCOMPARE(q.status().code(), absl::StatusCode::kInvalidArgument);
      QVERIFY(msg(q.status()).startsWith("QTY: "));
    }
    // Out of range: above the per-movement limit, and beyond int64.
    QVERIFY(msg(parseQuantity("q", "1000000000001", QtyRule::kPositive).status())
                .contains("out of range"));
    QVERIFY(msg(parseQuantity("q", "99999999999999999999999", QtyRule::kPositive).status())
                .contains("out of range"));
    // Sign rules.
    QVERIFY(!parseQuantity("q", "0", QtyRule::kPositive).ok());
    QVERIFY(!parseQuantity("q", "-1", QtyRule::kPositive).ok());
    QVERIFY(!parseQuantity("q", "-1", QtyRule::kNonNegative).ok());
    QVERIFY(!parseQuantity("q", "0", QtyRule::kNonZero).ok());
  }

  void integerLimits() {
    QCOMPARE(*parseInteger("--limit", "0", 0, 10), std::int64_t{0});
    QVERIFY(!parseInteger("--limit", "11", 0, 10).ok());
    QVERIFY(!parseInteger("--limit", "-1", 0, 10).ok());
    QVERIFY(!parseInteger("--limit", "ten", 0, 10).ok());
  }

  // ---------------------------------------------------------------- times
  void timeRfc3339() {
    // 2026-11-28T10:00:00Z = 1795860000.
    QCOMPARE(*parseTime("t", "2026-11-28T10:00:00Z"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "2026-11-28t10:00:00z"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "2026-11-28 11:00:00+01:00"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "2026-11-28T05:30:00-0430"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "2026-11-28T10:00:00.25Z"), std::int64_t{1795860000250000});
    QCOMPARE(*parseTime("t", "2026-11-28T10:00:00.1234567Z"), std::int64_t{1795860000123456});
    QCOMPARE(*parseTime("t", "2026-11-28T10:00Z"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "2026-11-28"), std::int64_t{1795824000} * 1000000);
    QCOMPARE(*parseTime("t", "1970-01-01T00:00:00Z"), std::int64_t{0});
  }

  void timeUnixAndNow() {
    QCOMPARE(*parseTime("t", "1795860000"), std::int64_t{1795860000} * 1000000);
    QCOMPARE(*parseTime("t", "1795860000.5"), std::int64_t{1795860000500000});
    const auto now = parseTime("t", "now");
    QVERIFY(now.ok());
    QVERIFY(*now > std::int64_t{1700000000} * 1000000);
  }

  void timeInvalid() {
    for (const char* text : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-28T25:00:00Z",
                             "2026-11-28T10:00:00", "2026-11-28T10:00:00+25:00", "2026-11-28X10:00",
                             "2026-11-28T10:00:00Zjunk", "-5", "99999999999999"}) {
      auto t = parseTime("--from", text);
      QVERIFY2(!t.ok(), text);
      QVERIFY(msg(t.status()).startsWith("--from: "));
    }
    QVERIFY(msg(parseTime("t", "2026-11-28T10:00:00").status()).contains("missing zone"));
  }

  void timeFormatRoundTrip() {
    QCOMPARE(formatTime(std::int64_t{1795860000} * 1000000), std::string("2026-11-28T10:00:00Z"));
    QCOMPARE(formatTime(std::int64_t{1795860000250000}, 3),
             std::string("2026-11-28T10:00:00.250Z"));
    QCOMPARE(formatTime(std::int64_t{1795860000250001}, 6),
             std::string("2026-11-28T10:00:00.250001Z"));
    const std::int64_t t = 1234567890123456;
    QCOMPARE(*parseTime("t", formatTime(t, 6)), t);
  }

  void durations() {
    QCOMPARE(*parseDuration("d", "90"), std::int64_t{90} * 1000000);
    QCOMPARE(*parseDuration("d", "2h"), std::int64_t{7200} * 1000000);
    QCOMPARE(*parseDuration("d", "1h30m"), std::int64_t{5400} * 1000000);
    QCOMPARE(*parseDuration("d", "500ms"), std::int64_t{500000});
    QCOMPARE(*parseDuration("d", "1d"), std::int64_t{86400} * 1000000);
    for (const char* text : {"", "0", "2x", "h", "1h30", "-1h", "0s"}) {
      QVERIFY2(!parseDuration("d", text).ok(), text);
    }
  }

  // ---------------------------------------------------------------- names
  void locations() {
    auto l = parseLocation("LOCATION", "east/A-01-03");
    QVERIFY(l.ok());
    QCOMPARE(l->warehouse, std::string("east"));
    QCOMPARE(l->code, std::string("A-01-03"));
    QCOMPARE(l->full(), std::string("east/A-01-03"));
    QCOMPARE(parseLocation("L", "east/A/1")->code, std::string("A/1"));
    for (const char* text : {"", "east", "/A", "east/", " east/A", "east/A "}) {
      QVERIFY2(!parseLocation("L", text).ok(), text);
    }
    QVERIFY(!parseLocation("L", std::string(65, 'w') + "/A").ok());
  }

  void skus() {
    QVERIFY(validateSku("SKU", "WID-001").ok());
    QVERIFY(!validateSku("SKU", "").ok());
    QVERIFY(!validateSku("SKU", std::string(65, 'X')).ok());
    QVERIFY(!validateSku("SKU", " X").ok());
    QVERIFY(!validateSku("SKU", "A\tB").ok());
  }

  void lineSpecs() {
    auto l = parseLineSpec("--line", "WID-001:east/A-01-03:4");
    QVERIFY(l.ok());
    QCOMPARE(l->sku, std::string("WID-001"));
    QCOMPARE(l->location, std::string("east/A-01-03"));
    QCOMPARE(l->quantity, std::int64_t{4});
    for (const char* text :
         {"", "A", "A:east/B", "A:east/B:0", "A:east/B:x", ":east/B:1", "A:B:1"}) {
      QVERIFY2(!parseLineSpec("--line", text).ok(), text);
    }
  }

  // ---------------------------------------------------------------- request ids
  void requestIdsAreUuidV4AndUnique() {
    std::set<std::string> seen;
    const QRegularExpression uuid(
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    for (int i = 0; i < 100000; ++i) {
      const std::string id = newRequestId();
      if (i < 1000) QVERIFY2(uuid.match(QString::fromStdString(id)).hasMatch(), id.c_str());
      QVERIFY(seen.insert(id).second);
    }
  }

  void requestIdsUniqueAcrossThreads() {
    constexpr int kThreads = 4;
    constexpr int kEach = 20000;
    std::vector<std::vector<std::string>> ids(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&ids, t] {
        for (int i = 0; i < kEach; ++i) ids[t].push_back(newRequestId());
      });
    }
    for (auto& th : threads) th.join();
    std::set<std::string> all;
    for (const auto& v : ids) all.insert(v.begin(), v.end());
    QCOMPARE(all.size(), std::size_t{kThreads * kEach});
  }
};

QTEST_GUILESS_MAIN(TestClientText)
#include "test_client_text.moc"
