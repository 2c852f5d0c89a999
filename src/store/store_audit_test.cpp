// The audit log and admin tokens, on both backends.
#include <thread>

#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

namespace json = boost::json;

template <class B>
class StoreAudit : public StoreFixture<B> {};
TYPED_TEST_SUITE(StoreAudit, Backends, BackendName);

TYPED_TEST(StoreAudit, EveryChangeIsRecordedWithBeforeAndAfter) {
  auto& s = *this->store_;
  Entity e = this->create(this->make("upstream", "u", {"t"}, json::object{{"a", 1}}));
  Entity changed = e;
  changed.body = json::object{{"a", 2}};
  auto tx = s.begin("bob");
  tx.update(changed, 1);
  ASSERT_TRUE(tx.commit().ok());
  auto tx2 = s.begin("carol");
  tx2.remove(Ref::by_id("upstream", e.id));
  ASSERT_TRUE(tx2.commit().ok());

  auto page = s.audit({});
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->items.size(), 3u);
  const auto& del = page->items[0];  // newest first
  const auto& upd = page->items[1];
  const auto& cre = page->items[2];
  EXPECT_EQ(cre.action, "create");
  EXPECT_EQ(cre.actor, "test");
  EXPECT_EQ(cre.revision, 1);
  EXPECT_TRUE(cre.before.is_null());
  EXPECT_EQ(cre.after.at("name"), "u");
  EXPECT_EQ(upd.action, "update");
  EXPECT_EQ(upd.actor, "bob");
  EXPECT_EQ(upd.revision, 2);
  EXPECT_EQ(upd.kind, "upstream");
  EXPECT_EQ(upd.entity_id, e.id);
  EXPECT_EQ(upd.before.at("body").at("a"), 1);
  EXPECT_EQ(upd.after.at("body").at("a"), 2);
  EXPECT_EQ(upd.after.at("version"), 2);
  EXPECT_EQ(del.action, "delete");
  EXPECT_EQ(del.actor, "carol");
  EXPECT_TRUE(del.after.is_null());
  EXPECT_EQ(del.before.at("version"), 2);
  EXPECT_GT(del.at, 0);

  AuditQuery by_actor;
  by_actor.actor = "bob";
  EXPECT_EQ(s.audit(by_actor)->items.size(), 1u);
  AuditQuery since;
  since.since_revision = 1;
  EXPECT_EQ(s.audit(since)->items.size(), 2u);
  AuditQuery paged;
  paged.limit = 2;
  auto p1 = s.audit(paged);
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->next_cursor.empty());
  paged.cursor = p1->next_cursor;
  auto p2 = s.audit(paged);
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].action, "create");
  EXPECT_TRUE(p2->next_cursor.empty());
}

TYPED_TEST(StoreAudit, TokensAreHashedScopedAndRevocable) {
  auto& s = *this->store_;
  auto made = s.create_token("root", "ci", Role::kEditor, "team-a");
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->secret.rfind("ght_", 0), 0u);

  auto who = s.authenticate(made->secret);
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->id, made->token.id);
  EXPECT_EQ(who->role, Role::kEditor);
  EXPECT_EQ(who->workspace, "team-a");
  EXPECT_EQ(who->created_by, "root");

  std::string wrong = made->secret;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.authenticate(wrong).error().status, 401);
  EXPECT_EQ(s.authenticate("ght_").error().status, 401);
  EXPECT_EQ(s.authenticate("").error().status, 401);
  EXPECT_EQ(s.authenticate("ght_0000000000000000_x").error().status, 401);

  // Tokens are not configuration: no revision bump, but audited (no hash).
  EXPECT_EQ(this->revision(), 0);
  auto listed = s.list_tokens();
  ASSERT_EQ(listed->size(), 1u);
  ASSERT_TRUE(s.revoke_token("root", made->token.id).ok());
  EXPECT_EQ(s.authenticate(made->secret).error().code, "unauthorized");
  EXPECT_NE(s.list_tokens()->at(0).revoked_at, 0);
  EXPECT_EQ(s.revoke_token("root", "ffffffffffffffff").error().status, 404);
  AuditQuery q;
  q.kind = "admin_token";
  auto audit = s.audit(q);
  ASSERT_EQ(audit->items.size(), 2u);
  EXPECT_EQ(audit->items[0].action, "revoke");
  EXPECT_EQ(audit->items[1].action, "create");
  EXPECT_EQ(audit->items[1].after.as_object().count("secret_hash"), 0u);

  auto expired = s.create_token("root", "old", Role::kViewer, "", 1);  // expired in 1970
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(s.authenticate(expired->secret).error().status, 401);
  EXPECT_EQ(s.create_token("root", "", Role::kAdmin, "").error().status, 400);
  EXPECT_EQ(s.create_token("root", "x", Role::kAdmin, "bad ws").error().status, 400);
}

}  // namespace
}  // namespace gatehouse::store::testing
