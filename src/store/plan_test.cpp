// The database-free parts of a commit: planning and the codecs.
#include "store/plan.hpp"

#include <gtest/gtest.h>

#include "store/codec.hpp"

namespace gatehouse::store {
namespace {

namespace json = boost::json;

Transaction::Op create_op(std::string kind, std::string name, std::vector<std::string> tags = {}) {
  Transaction::Op op{Transaction::Op::Type::kCreate, {}, {}, 0, {}};
  op.entity.kind = std::move(kind);
  op.entity.name = std::move(name);
  op.entity.tags = std::move(tags);
  op.entity.id = new_uuid();
  return op;
}

TEST(StorePlan, NetChangesPerEntity) {
  auto c = create_op("route", "r");
  Transaction::Op upd{Transaction::Op::Type::kUpdate, c.entity, {}, 0, {}};
  upd.entity.body = json::object{{"x", 1}};
  auto plan = apply_ops({}, {c, upd}, 7, 1000);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->changes.size(), 1u);  // create + update = one create
  EXPECT_EQ(plan->changes[0].action, Action::kCreate);
  EXPECT_EQ(plan->changes[0].after->version, 1);
  EXPECT_EQ(plan->changes[0].after->revision, 8);
  EXPECT_EQ(plan->changes[0].after->body, (json::value(json::object{{"x", 1}})));

  Transaction::Op rm{Transaction::Op::Type::kRemove, {}, Ref::by_id("route", c.entity.id), 0, {}};
  auto nothing = apply_ops({}, {c, rm}, 7, 1000);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->changes.empty());  // created and removed: nothing to write
}

TEST(StorePlan, FieldChecks) {
  auto bad_kind = create_op("Route", "r");
  EXPECT_EQ(apply_ops({}, {bad_kind}, 0, 1).error().field, "kind");
  auto dup_tag = create_op("route", "r", {"a", "a"});
  auto r = apply_ops({}, {dup_tag}, 0, 1);
  EXPECT_EQ(r.error().field, "tags[1]");
  EXPECT_EQ(r.error().status, 400);
  auto ctl = create_op("route", "bad\nname");
  EXPECT_EQ(apply_ops({}, {ctl}, 0, 1).error().field, "name");
  auto ws = create_op("route", "r");
  ws.entity.workspace = "*";
  EXPECT_EQ(apply_ops({}, {ws}, 0, 1).error().field, "workspace");
}

TEST(StorePlan, ReplaceAllNeedsKinds) {
  Transaction::Op op{Transaction::Op::Type::kReplaceAll, {}, {}, 0, {}};
  auto r = apply_ops({}, {op}, 0, 1);
  EXPECT_EQ(r.error().field, "kinds");
}

TEST(StoreCodec, CursorsRoundTripAndRejectForgeries) {
  std::vector<std::string> key = {"default", "route", "naïve/\"name\"", new_uuid()};
  auto back = decode_cursor(encode_cursor(key), 4);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, key);
  EXPECT_FALSE(decode_cursor(encode_cursor(key), 3).ok());
  EXPECT_FALSE(decode_cursor("!!", 4).ok());
  EXPECT_FALSE(decode_cursor("a", 4).ok());
  EXPECT_EQ(decode_cursor("e30", 1).error().code, "invalid_cursor");  // "{}"
}

TEST(StoreCodec, Uuids) {
  std::string id = new_uuid();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');
  EXPECT_EQ(normalize_uuid(id), id);
  EXPECT_EQ(normalize_uuid("6F9619FF-8B86-4011-B42D-00C04FC964FF"),
            "6f9619ff-8b86-4011-b42d-00c04fc964ff");
  EXPECT_FALSE(normalize_uuid("6F9619FF8B864011B42D00C04FC964FF"));
  EXPECT_FALSE(normalize_uuid("6F9619FF-8B86-4011-B42D-00C04FC964FG"));
  EXPECT_NE(new_uuid(), new_uuid());
}

}  // namespace
}  // namespace gatehouse::store
