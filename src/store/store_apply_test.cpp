// replace_all (declarative apply): ownership by tag, idempotence, atomicity.
#include "store/test_support/store_fixture.hpp"

namespace gatehouse::store::testing {
namespace {

namespace json = boost::json;

template <class B>
class StoreApply : public StoreFixture<B> {
 protected:
  ReplaceSpec spec(std::string owner, std::vector<Entity> entities) {
    ReplaceSpec s;
    s.kinds = {"upstream", "route"};
    s.owner_tag = std::move(owner);
    s.entities = std::move(entities);
    return s;
  }
  Result<CommitResult> apply(ReplaceSpec s) {
    auto tx = this->store_->begin("deploy-bot");
    tx.replace_all(std::move(s));
    return tx.commit();
  }
  std::vector<std::string> names(const std::string& kind) {
    ListQuery q;
    q.kind = kind;
    std::vector<std::string> out;
    auto page = this->store_->list(q);  // a named Result: items must outlive the loop
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (auto& e : page->items) out.push_back(e.name);
    return out;
  }
};
TYPED_TEST_SUITE(StoreApply, Backends, BackendName);

TYPED_TEST(StoreApply, OwnerTagLimitsWhatAnApplyTouches) {
  // Hand-made entities and another file's entities stay untouched.
  this->create(this->make("route", "manual"));
  ASSERT_TRUE(this->apply(this->spec("file:b", {this->make("route", "b-route")})).ok());

  auto r = this->apply(this->spec("file:a", {this->make("upstream", "a-up"),
                                             this->make("route", "a-1", {}, json::object{{"p", 1}}),
                                             this->make("route", "a-2")}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->changes.size(), 3u);
  EXPECT_EQ(this->names("route"), (std::vector<std::string>{"a-1", "a-2", "b-route", "manual"}));
  auto a1 = this->store_->get(Ref::by_name("route", "a-1"));
  EXPECT_EQ(a1->tags, std::vector<std::string>{"file:a"});  // the owner tag is added

  // Applying the same file again changes nothing and keeps the revision.
  int64_t rev = this->revision();
  auto again =
      this->apply(this->spec("file:a", {this->make("upstream", "a-up"),
                                        this->make("route", "a-1", {}, json::object{{"p", 1}}),
                                        this->make("route", "a-2")}));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->changes.empty());
  EXPECT_EQ(this->revision(), rev);

  // Dropping a-2 and changing a-1: one delete, one update (same id, version 2).
  auto next =
      this->apply(this->spec("file:a", {this->make("upstream", "a-up"),
                                        this->make("route", "a-1", {}, json::object{{"p", 2}})}));
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->changes.size(), 2u);
  EXPECT_EQ(this->names("route"), (std::vector<std::string>{"a-1", "b-route", "manual"}));
  auto a1v2 = this->store_->get(Ref::by_name("route", "a-1"));
  EXPECT_EQ(a1v2->id, a1->id);
  EXPECT_EQ(a1v2->version, 2);

  // An empty file for owner a removes only a's entities.
  ASSERT_TRUE(this->apply(this->spec("file:a", {})).ok());
  EXPECT_EQ(this->names("route"), (std::vector<std::string>{"b-route", "manual"}));
  EXPECT_TRUE(this->names("upstream").empty());
}

TYPED_TEST(StoreApply, ClaimingAnUnownedEntityIsAConflict) {
  this->create(this->make("route", "manual"));
  int64_t rev = this->revision();
  auto r = this->apply(
      this->spec("file:a", {this->make("route", "fresh"), this->make("route", "manual")}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_owned");
  EXPECT_EQ(r.error().status, 409);
  EXPECT_EQ(r.error().field, "entities[1]");
  EXPECT_EQ(this->revision(), rev);
  EXPECT_EQ(this->names("route"), std::vector<std::string>{"manual"});  // "fresh" not written

  auto dup =
      this->apply(this->spec("file:a", {this->make("route", "x"), this->make("route", "x")}));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "name_conflict");
  EXPECT_EQ(dup.error().field, "entities[1].name");

  auto wrong_kind = this->apply(this->spec("file:a", {this->make("consumer", "c")}));
  EXPECT_EQ(wrong_kind.error().field, "entities[0].kind");
}

TYPED_TEST(StoreApply, WithoutOwnerTagItManagesTheWholeKindSet) {
  this->create(this->make("route", "old"));
  this->create(this->make("consumer", "kept"));  // not among the kinds
  Entity other_ws = this->make("route", "elsewhere");
  other_ws.workspace = "b";
  this->create(other_ws);
  auto r = this->apply(this->spec("", {this->make("route", "new")}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(this->names("route"), std::vector<std::string>{"new"});
  EXPECT_EQ(this->names("consumer"), std::vector<std::string>{"kept"});
  EXPECT_TRUE(this->store_->get(Ref::by_name("route", "elsewhere", "b")).ok());
  EXPECT_TRUE(this->store_->get(Ref::by_name("route", "new"))->tags.empty());
}

TYPED_TEST(StoreApply, EntitiesWithIdsKeepThemAcrossRenames) {
  Entity e = this->make("route", "before");
  e.id = "6F9619FF-8B86-4011-B42D-00C04FC964FF";  // upper case is normalised
  ASSERT_TRUE(this->apply(this->spec("f", {e})).ok());
  auto got = this->store_->get(Ref::by_id("route", "6f9619ff-8b86-4011-b42d-00c04fc964ff"));
  ASSERT_TRUE(got.ok());
  e.name = "after";
  ASSERT_TRUE(this->apply(this->spec("f", {e})).ok());
  auto renamed = this->store_->get(Ref::by_id("route", got->id));
  EXPECT_EQ(renamed->name, "after");
  EXPECT_EQ(renamed->version, 2);
}

}  // namespace
}  // namespace gatehouse::store::testing
