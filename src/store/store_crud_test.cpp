// Entity CRUD, uniqueness, optimistic concurrency, validation, listing and
// pagination, snapshots, meta and migrations: the same cases on both backends.
#include <set>

#include "store/migrations/migrations.hpp"
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

namespace json = boost::json;

template <class B>
class StoreCrud : public StoreFixture<B> {};
TYPED_TEST_SUITE(StoreCrud, Backends, BackendName);

TYPED_TEST(StoreCrud, CreateGetUpdateRemove) {
  auto& s = *this->store_;
  EXPECT_EQ(this->revision(), 0);
  auto tx = s.begin("alice");
  std::string id = tx.create(this->make("upstream", "users", {"team-a"}, json::object{{"x", 1}}));
  auto c = tx.commit();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->revision, 1);
  ASSERT_EQ(c->changes.size(), 1u);
  EXPECT_EQ(c->changes[0].action, Action::kCreate);

  auto got = s.get(Ref::by_id("upstream", id));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "users");
  EXPECT_EQ(got->workspace, "default");
  EXPECT_EQ(got->tags, std::vector<std::string>{"team-a"});
  EXPECT_EQ(got->body, (json::value(json::object{{"x", 1}})));
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->revision, 1);
  EXPECT_GT(got->created_at, 0);
  EXPECT_EQ(got->created_at, got->updated_at);

  auto by_name = s.get(Ref::by_name("upstream", "users"));
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, id);
  // Kind and workspace are part of the address.
  EXPECT_EQ(s.get(Ref::by_id("route", id)).error().status, 404);
  EXPECT_EQ(s.get(Ref::by_id("upstream", id, "other")).error().status, 404);
  EXPECT_EQ(s.get(Ref::by_name("upstream", "users", "other")).error().code, "not_found");

  Entity changed = *got;
  changed.body = json::object{{"x", 2}};
  changed.tags = {"team-a", "prod"};
  auto tx2 = s.begin("bob");
  tx2.update(changed, 1);
  auto c2 = tx2.commit();
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ(c2->revision, 2);
  got = s.get(Ref::by_id("upstream", id));
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->revision, 2);
  EXPECT_EQ(got->created_at, c->changes[0].after->created_at);
  EXPECT_EQ(got->tags, (std::vector<std::string>{"team-a", "prod"}));

  auto tx3 = s.begin("bob");
  tx3.remove(Ref::by_name("upstream", "users"), 2);
  auto c3 = tx3.commit();
  ASSERT_TRUE(c3.ok()) << c3.error().message;
  EXPECT_EQ(c3->revision, 3);
  EXPECT_EQ(c3->changes.at(0).action, Action::kDelete);
  EXPECT_EQ(s.get(Ref::by_id("upstream", id)).error().status, 404);
}

TYPED_TEST(StoreCrud, NamesAreUniquePerKindAndWorkspace) {
  auto& s = *this->store_;
  Entity first = this->create(this->make("route", "r1"));
  auto tx = s.begin("t");
  tx.create(this->make("route", "r1"));
  auto dup = tx.commit();
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "name_conflict");
  EXPECT_EQ(dup.error().status, 409);
  EXPECT_EQ(dup.error().field, "name");

  // The same name in another kind or workspace, and unnamed entities, are fine.
  auto tx2 = s.begin("t");
  tx2.create(this->make("upstream", "r1"));
  Entity other = this->make("route", "r1");
  other.workspace = "team-b";
  tx2.create(other);
  tx2.create(this->make("credential", ""));
  tx2.create(this->make("credential", ""));
  ASSERT_TRUE(tx2.commit().ok());

  // A given id that exists is a conflict too; a malformed one is invalid.
  Entity same_id = this->make("route", "r2");
  same_id.id = first.id;
  auto tx3 = s.begin("t");
  tx3.create(same_id);
  EXPECT_EQ(tx3.commit().error().code, "id_conflict");
  Entity bad_id = this->make("route", "r3");
  bad_id.id = "not-a-uuid";
  auto tx4 = s.begin("t");
  tx4.create(bad_id);
  auto bad = tx4.commit();
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(bad.error().field, "id");

  // Renaming onto a taken name fails; a swap inside one commit works.
  Entity r2 = this->create(this->make("route", "r2"));
  Entity a = first, b = r2;
  a.name = "r2";
  auto tx5 = s.begin("t");
  tx5.update(a);
  EXPECT_EQ(tx5.commit().error().code, "name_conflict");
  b.name = "r1";
  auto tx6 = s.begin("t");
  tx6.update(a);
  tx6.update(b);
  auto swapped = tx6.commit();
  ASSERT_TRUE(swapped.ok()) << swapped.error().message;
  EXPECT_EQ(s.get(Ref::by_name("route", "r2"))->id, first.id);
  EXPECT_EQ(s.get(Ref::by_name("route", "r1"))->id, r2.id);
}

TYPED_TEST(StoreCrud, StaleVersionsAndMissingTargetsAreRefused) {
  auto& s = *this->store_;
  Entity e = this->create(this->make("consumer", "c1"));
  Entity v2 = e;
  v2.body = json::object{{"v", 2}};
  auto tx = s.begin("t");
  tx.update(v2, 1);
  ASSERT_TRUE(tx.commit().ok());

  // A writer that read version 1 loses.
  Entity stale = e;
  stale.body = json::object{{"v", "stale"}};
  auto tx2 = s.begin("t");
  tx2.update(stale, 1);
  auto r = tx2.commit();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "version_conflict");
  EXPECT_EQ(r.error().status, 412);
  EXPECT_EQ(r.error().field, "version");
  auto tx3 = s.begin("t");
  tx3.remove(Ref::by_id("consumer", e.id), 1);
  EXPECT_EQ(tx3.commit().error().status, 412);
  EXPECT_EQ(s.get(Ref::by_id("consumer", e.id))->body, (json::value(json::object{{"v", 2}})));

  auto tx4 = s.begin("t");
  tx4.remove(Ref::by_name("consumer", "nobody"));
  auto gone = tx4.commit();
  EXPECT_EQ(gone.error().status, 404);
  EXPECT_EQ(gone.error().code, "not_found");
  Entity ghost = this->make("consumer", "ghost");
  auto tx5 = s.begin("t");
  tx5.update(ghost);
  EXPECT_EQ(tx5.commit().error().status, 404);

  // upsert creates, then updates.
  auto tx6 = s.begin("t");
  tx6.upsert(ghost);
  ASSERT_TRUE(tx6.commit().ok());
  ghost.body = json::object{{"seen", true}};
  auto tx7 = s.begin("t");
  tx7.upsert(ghost);
  auto up = tx7.commit();
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->changes.at(0).action, Action::kUpdate);
  EXPECT_EQ(s.get(Ref::by_name("consumer", "ghost"))->version, 2);
}

TYPED_TEST(StoreCrud, RejectedCommitLeavesNoTrace) {
  auto& s = *this->store_;
  this->create(this->make("upstream", "u1"));
  int64_t rev = this->revision();
  auto audit_before = s.audit({});
  ASSERT_TRUE(audit_before.ok());

  size_t seen_entities = 0;
  auto tx = s.begin("t");
  tx.create(this->make("route", "r1", {"x"}));
  tx.remove(Ref::by_name("upstream", "u1"));
  auto r = tx.commit([&](const ChangeSet& cs) -> Result<void> {
    seen_entities = cs.entities.size();
    EXPECT_EQ(cs.base_revision, rev);
    EXPECT_EQ(cs.changes.size(), 2u);
    return make_error("route_upstream_missing", "route r1 points at nothing", "upstream");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "route_upstream_missing");
  EXPECT_EQ(r.error().status, 400);  // a validator error without a status is the client's
  EXPECT_EQ(seen_entities, 1u);      // the route, without the removed upstream
  EXPECT_EQ(this->revision(), rev);
  EXPECT_TRUE(s.get(Ref::by_name("upstream", "u1")).ok());
  EXPECT_FALSE(s.get(Ref::by_name("route", "r1")).ok());
  ListQuery tagged;
  tagged.tags = {"x"};
  EXPECT_TRUE(s.list(tagged)->items.empty());
  EXPECT_EQ(s.audit({})->items.size(), audit_before->items.size());

  // The store-wide validator applies to every commit that names none.
  s.set_validator([](const ChangeSet&) -> Result<void> {
    return make_error("frozen", "no changes today", {}, 423);
  });
  auto tx2 = s.begin("t");
  tx2.create(this->make("route", "r2"));
  EXPECT_EQ(tx2.commit().error().status, 423);
  EXPECT_EQ(this->revision(), rev);
}

TYPED_TEST(StoreCrud, UnchangedCommitKeepsTheRevision) {
  auto& s = *this->store_;
  Entity e = this->create(this->make("upstream", "u1", {"a"}, json::object{{"k", "v"}}));
  auto tx = s.begin("t");
  tx.update(e, e.version);  // identical content
  auto r = tx.commit();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->changes.empty());
  EXPECT_EQ(r->revision, 1);
  auto empty = s.begin("t").commit();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->revision, 1);
  EXPECT_EQ(s.get(Ref::by_id("upstream", e.id))->version, 1);
}

TYPED_TEST(StoreCrud, ListFiltersByKindWorkspaceNamePrefixAndTags) {
  auto& s = *this->store_;
  auto tx = s.begin("t");
  tx.create(this->make("route", "users-get", {"team-a", "prod"}));
  tx.create(this->make("route", "users-post", {"team-a"}));
  tx.create(this->make("route", "orders", {"prod"}));
  tx.create(this->make("upstream", "users", {"team-a"}));
  Entity elsewhere = this->make("route", "users-get", {"team-a"});
  elsewhere.workspace = "b";
  tx.create(elsewhere);
  ASSERT_TRUE(tx.commit().ok());

  auto names = [&](ListQuery q) {
    std::vector<std::string> out;
    auto page = s.list(q);
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (auto& e : page->items) out.push_back(e.workspace + "/" + e.kind + "/" + e.name);
    return out;
  };
  ListQuery q;
  q.kind = "route";
  EXPECT_EQ(names(q), (std::vector<std::string>{"default/route/orders", "default/route/users-get",
                                                "default/route/users-post"}));
  q.name_prefix = "users-";
  EXPECT_EQ(names(q).size(), 2u);
  q.tags = {"prod"};
  EXPECT_EQ(names(q), std::vector<std::string>{"default/route/users-get"});
  q.tags = {"prod", "team-a"};
  EXPECT_EQ(names(q), std::vector<std::string>{"default/route/users-get"});
  ListQuery all;
  all.workspace = "*";
  all.tags = {"team-a"};
  EXPECT_EQ(names(all),
            (std::vector<std::string>{"b/route/users-get", "default/route/users-get",
                                      "default/route/users-post", "default/upstream/users"}));
  ListQuery prefix_chars;
  prefix_chars.name_prefix = "%";  // no LIKE semantics
  EXPECT_TRUE(names(prefix_chars).empty());
  ListQuery bad;
  bad.cursor = "garbage!";
  EXPECT_EQ(s.list(bad).error().code, "invalid_cursor");
}

TYPED_TEST(StoreCrud, PaginationVisitsEveryEntityOnce) {
  auto& s = *this->store_;
  auto tx = s.begin("t");
  std::set<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    // Mixed-case and non-ASCII names: the order must be the same bytewise
    // order on both engines for cursors to work.
    std::string name = (i % 3 == 0 ? "Svc-" : i % 3 == 1 ? "svc-" : "sérvice-") + std::to_string(i);
    ids.insert(tx.create(this->make("upstream", name)));
  }
  for (int i = 0; i < 5; ++i) tx.create(this->make("credential", ""));  // unnamed: ordered by id
  ASSERT_TRUE(tx.commit().ok());

  for (size_t limit : {1u, 7u, 100u, 1000u}) {
    ListQuery q;
    q.kind = "upstream";
    q.limit = limit;
    std::set<std::string> seen;
    std::string prev_name;
    int pages = 0;
    do {
      auto page = s.list(q);
      ASSERT_TRUE(page.ok()) << page.error().message;
      ASSERT_LE(page->items.size(), limit);
      for (const auto& e : page->items) {
        EXPECT_TRUE(seen.insert(e.id).second) << "duplicate " << e.name;
        EXPECT_LT(prev_name, e.name);
        prev_name = e.name;
      }
      q.cursor = page->next_cursor;
      ++pages;
    } while (!q.cursor.empty() && pages < 1000);
    EXPECT_EQ(seen, ids) << "limit " << limit;
  }

  // A page boundary survives deletes and inserts around it.
  ListQuery q;
  q.kind = "upstream";
  q.limit = 100;
  auto first = s.list(q);
  ASSERT_TRUE(first.ok());
  auto tx2 = s.begin("t");
  tx2.remove(Ref::by_id("upstream", first->items.front().id));
  tx2.create(this->make("upstream", "aaa-new-first"));
  ASSERT_TRUE(tx2.commit().ok());
  q.cursor = first->next_cursor;
  size_t rest = 0;
  while (true) {
    auto page = s.list(q);
    ASSERT_TRUE(page.ok());
    rest += page->items.size();
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  EXPECT_EQ(rest, 150u);
}

TYPED_TEST(StoreCrud, LoadAllIsOneRevision) {
  auto& s = *this->store_;
  this->create(this->make("upstream", "u"));
  this->create(this->make("route", "r"));
  auto snap = s.load_all();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->revision, 2);
  ASSERT_EQ(snap->entities.size(), 2u);
  EXPECT_EQ(snap->entities[0].kind, "route");  // ordered by workspace, kind, name, id
}

TYPED_TEST(StoreCrud, MetaValues) {
  auto& s = *this->store_;
  EXPECT_FALSE(s.get_meta("first_start_done")->has_value());
  ASSERT_TRUE(s.set_meta("first_start_done", "1").ok());
  ASSERT_TRUE(s.set_meta("first_start_done", "2").ok());
  EXPECT_EQ(s.get_meta("first_start_done")->value(), "2");
  EXPECT_EQ(this->revision(), 0);  // meta is not configuration
}

TYPED_TEST(StoreCrud, ReopeningMigratesNothingAndKeepsData) {
  Entity e = this->create(this->make("upstream", "kept"));
  this->store_.reset();
  for (int i = 0; i < 2; ++i) {
    auto again = this->open();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->get(Ref::by_name("upstream", "kept"))->id, e.id);
    EXPECT_EQ(*again->current_revision(), 1);
  }
}

}  // namespace
}  // namespace gatehouse::store::testing
