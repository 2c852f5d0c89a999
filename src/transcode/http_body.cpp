// google.api.HttpBody (docs/grpc.md#raw-bodies-googleapihttpbody), as Envoy's
// grpc_json_transcoder and grpc-gateway treat it: bytes that are not JSON go
// into and come out of the message untouched. Decisions (README.md):
// - The HttpBody is written and read at the wire level (UnknownFieldSet) with
//   the field numbers of the set's own HttpBody, never through JSON: the data
//   would otherwise make a base64 round trip, a third larger and slower.
// - A response message is parsed whole as protobuf first, so a cut or
//   malformed one is a 502 as for JSON answers.
#include <google/protobuf/unknown_field_set.h>

#include "transcode/transcoder_impl.hpp"

namespace gatehouse::transcode {

namespace pb = google::protobuf;

bool is_http_body(const pb::Descriptor* d) {
  if (!d || d->full_name() != "google.api.HttpBody") return false;
  const pb::FieldDescriptor* ct = d->FindFieldByName("content_type");
  const pb::FieldDescriptor* data = d->FindFieldByName("data");
  return ct && data && !ct->is_repeated() && !data->is_repeated() &&
         ct->type() == pb::FieldDescriptor::TYPE_STRING &&
         data->type() == pb::FieldDescriptor::TYPE_BYTES;
}

void append_http_body(const pb::Descriptor* in, const std::string& field,
                      std::string_view content_type, std::string_view data, std::string& out) {
  const pb::FieldDescriptor* outer = field == "*" ? nullptr : in->FindFieldByName(field);
  const pb::Descriptor* hb = outer ? outer->message_type() : in;
  // Nothing sent: the field stays unset (no empty message that reads as set).
  if (content_type.empty() && data.empty()) return;
  pb::UnknownFieldSet body;
  if (!content_type.empty())
    body.AddLengthDelimited(hb->FindFieldByName("content_type")->number())
        ->assign(content_type.data(), content_type.size());
  if (!data.empty())
    body.AddLengthDelimited(hb->FindFieldByName("data")->number())
        ->assign(data.data(), data.size());
  std::string bytes;
  body.SerializeToString(&bytes);
  if (!outer) {
    out += bytes;
    return;
  }
  pb::UnknownFieldSet wrap;
  *wrap.AddLengthDelimited(outer->number()) = std::move(bytes);
  std::string wrapped;
  wrap.SerializeToString(&wrapped);
  out += wrapped;
}

bool Transcoder::raw_response(const Match& m, std::string_view message, std::string& content_type,
                              std::string& data, Problem& why) const {
  const Binding& b = *m.binding;
  const pb::Descriptor* d = impl_->methods[b.method]->output_type();
  auto bad = [&] {
    why = {502, "bad_upstream_message",
           "upstream message is not valid protobuf (" + d->full_name() + ")", ""};
    return false;
  };
  content_type.clear();
  data.clear();
  pb::UnknownFieldSet wire;
  if (!wire.ParseFromArray(message.data(), static_cast<int>(message.size()))) return bad();
  // The HttpBody's fields, last occurrence winning as in a protobuf merge.
  auto take = [&](const pb::UnknownFieldSet& set, const pb::Descriptor* hb) {
    const int ct = hb->FindFieldByName("content_type")->number();
    const int dt = hb->FindFieldByName("data")->number();
    for (int i = 0; i < set.field_count(); ++i) {
      const pb::UnknownField& f = set.field(i);
      if (f.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
      if (f.number() == ct) content_type = f.length_delimited();
      if (f.number() == dt) data = f.length_delimited();
    }
  };
  if (b.response_body.empty()) {
    take(wire, d);
    return true;
  }
  const pb::FieldDescriptor* field = d->FindFieldByName(b.response_body);
  for (int i = 0; i < wire.field_count(); ++i) {
    const pb::UnknownField& f = wire.field(i);
    if (f.number() != field->number()) continue;
    if (f.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) return bad();
    pb::UnknownFieldSet inner;
    const std::string& v = f.length_delimited();
    if (!inner.ParseFromArray(v.data(), static_cast<int>(v.size()))) return bad();
    take(inner, field->message_type());
  }
  return true;
}

}  // namespace gatehouse::transcode
