"""The gRPC service of tests/fixtures/transcode/shelf.proto on grpcio, its
messages built from the compiled descriptor set (no generated code).
`compile_shelf(dir)` runs protoc and returns the descriptor set's path.

Service gh.test.v1.Shelf:
  GetItem     Item{id, shelf, display_name "item-<id>"}; id "missing": NOT_FOUND
  ListItems   page_size items (default 2) echoing shelf, tags, color, filter as meta,
              active, count; next_page_token "next"
  CreateItem  the item with the request's shelf
  UpdateItem  the item, display_name + " (updated)"
  Echo        the request
  GetFile     Item{id: path}
  Watch       count items "w-0".."w-(count-1)", 0.2 s apart; ABORTED after fail_after
  Fail        the code and message asked for; details: grpc-status-details-bin with a Meta
  Collect     every streamed Item, in order
  Plain       Item{id: "plain-<id>"}
google.api.HttpBody methods:
  Download    HttpBody{"text/csv" for *.csv, none for "empty", else "application/x-test";
              data b"file:" + path + b"\x00\xff"}; path "missing": NOT_FOUND
  Upload      Item{id: name, shelf, display_name: file.content_type, count: len(file.data)}
  EchoRaw     the HttpBody it was sent
  GetAttachment  Attachment{id, body: HttpBody{"application/pdf", b"%PDF-" + id}}
  StreamRaw   count HttpBody{"text/plain", b"chunk-<i>\n"}, 0.2 s apart; ABORTED after fail_after
  UploadStream   Item{display_name: first content_type, count: total bytes, tags: [messages]}
Metadata: GetItem id "meta" and Watch shelf "meta" send initial metadata
(x-served-by, x-blob-bin) and trailing metadata (x-cost, x-trail-bin); Fail
with message "meta" adds trailing x-why (a trailers-only error).
Each call's request is kept in `calls[method]` (the last one), its metadata
in `metadata[method]`."""

import os
import subprocess
import time

GOOGLEAPIS = "/usr/share/gocode/src/github.com/gogo/googleapis"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "transcode")


def compile_shelf(out_dir):
    out = os.path.join(out_dir, "shelf.pb")
    subprocess.run(["protoc", "-I", FIXTURES, "-I", GOOGLEAPIS, "--include_imports",
                    "--descriptor_set_out=" + out, "shelf.proto"], check=True)
    return out


class ShelfPeer:
    def __init__(self, descriptor_path):
        import grpc
        from concurrent import futures
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        fds = descriptor_pb2.FileDescriptorSet()
        with open(descriptor_path, "rb") as f:
            fds.ParseFromString(f.read())
        pool = descriptor_pool.DescriptorPool()
        for fd in fds.file:
            pool.Add(fd)
        factory = message_factory.MessageFactory(pool)

        def cls(name):
            return factory.GetPrototype(pool.FindMessageTypeByName("gh.test.v1." + name))

        self.M = {n: cls(n) for n in ["Item", "Meta", "GetItemRequest", "ListItemsRequest",
                                      "ListItemsResponse", "CreateItemRequest",
                                      "UpdateItemRequest", "GetFileRequest", "WatchRequest",
                                      "FailRequest", "RpcStatus", "UploadRequest",
                                      "Attachment"]}
        self.M["HttpBody"] = factory.GetPrototype(
            pool.FindMessageTypeByName("google.api.HttpBody"))
        self.Any = factory.GetPrototype(pool.FindMessageTypeByName("google.protobuf.Any"))
        self.calls = {}
        self.metadata = {}
        M = self.M
        ser = lambda m: m.SerializeToString()  # noqa: E731

        def unary(name, req, fn):
            def h(request, context):
                self.calls[name] = request
                self.metadata[name] = dict(context.invocation_metadata())
                return fn(request, context)
            return grpc.unary_unary_rpc_method_handler(
                h, request_deserializer=M[req].FromString, response_serializer=ser)

        def send_meta(context):
            context.send_initial_metadata([("x-served-by", "peer"),
                                           ("x-blob-bin", b"\x00\x01\xfe")])
            context.set_trailing_metadata([("x-cost", "7"), ("x-trail-bin", b"\xff\x00")])

        def watch(request, context):
            self.calls["Watch"] = request
            if request.shelf == "meta":
                send_meta(context)
            for i in range(request.count):
                if request.fail_after and i == request.fail_after:
                    context.abort(grpc.StatusCode.ABORTED, "stopped after %d" % i)
                yield M["Item"](id="w-%d" % i, shelf=request.shelf)
                time.sleep(0.2)

        def collect(it, context):
            items = list(it)
            self.calls["Collect"] = items
            return M["ListItemsResponse"](items=items)

        def fail(request, context):
            code = {c.value[0]: c for c in grpc.StatusCode}[request.code]
            trailing = []
            if request.details:
                detail = self.Any(type_url="type.googleapis.com/gh.test.v1.Meta",
                                  value=M["Meta"](owner="why", level=3).SerializeToString())
                st = M["RpcStatus"](code=request.code, message=request.message, details=[detail])
                trailing.append(("grpc-status-details-bin", st.SerializeToString()))
            if request.message == "meta":
                trailing.append(("x-why", "because"))
            if trailing:
                context.set_trailing_metadata(trailing)
            context.abort(code, request.message)

        def get_item(r, c):
            if r.id == "missing":
                c.abort(grpc.StatusCode.NOT_FOUND, "no item missing")
            if r.id == "meta":
                send_meta(c)
            return M["Item"](id=r.id, shelf=r.shelf, display_name="item-" + r.id)

        def list_items(r, c):
            n = r.page_size or 2
            items = [M["Item"](id=str(i), shelf=r.shelf, tags=list(r.tags), color=r.color,
                               meta=r.filter, active=r.active, count=r.count) for i in range(n)]
            return M["ListItemsResponse"](items=items, next_page_token="next")

        def create(r, c):
            item = M["Item"]()
            item.CopyFrom(r.item)
            item.shelf = r.shelf
            return item

        def update(r, c):
            item = M["Item"]()
            item.CopyFrom(r.item)
            item.display_name += " (updated)"
            return item

        def download(r, c):
            if r.path == "missing":
                c.abort(grpc.StatusCode.NOT_FOUND, "no file missing")
            if r.path == "empty":
                return M["HttpBody"]()
            ctype = "text/csv" if r.path.endswith(".csv") else "application/x-test"
            return M["HttpBody"](content_type=ctype,
                                 data=b"file:" + r.path.encode() + b"\x00\xff")

        def upload(r, c):
            return M["Item"](id=r.name, shelf=r.shelf, display_name=r.file.content_type,
                             count=len(r.file.data))

        def stream_raw(request, context):
            self.calls["StreamRaw"] = request
            for i in range(request.count):
                if request.fail_after and i == request.fail_after:
                    context.abort(grpc.StatusCode.ABORTED, "stopped after %d" % i)
                yield M["HttpBody"](content_type="text/plain", data=b"chunk-%d\n" % i)
                time.sleep(0.2)

        def upload_stream(it, context):
            parts = list(it)
            self.calls["UploadStream"] = parts
            return M["Item"](display_name=parts[0].content_type if parts else "",
                             count=sum(len(p.data) for p in parts), tags=[str(len(parts))])

        handlers = {
            "GetItem": unary("GetItem", "GetItemRequest", get_item),
            "ListItems": unary("ListItems", "ListItemsRequest", list_items),
            "CreateItem": unary("CreateItem", "CreateItemRequest", create),
            "UpdateItem": unary("UpdateItem", "UpdateItemRequest", update),
            "Echo": unary("Echo", "Item", lambda r, c: r),
            "GetFile": unary("GetFile", "GetFileRequest",
                             lambda r, c: M["Item"](id=r.path)),
            "Fail": unary("Fail", "FailRequest", fail),
            "Download": unary("Download", "GetFileRequest", download),
            "Upload": unary("Upload", "UploadRequest", upload),
            "EchoRaw": unary("EchoRaw", "HttpBody", lambda r, c: r),
            "GetAttachment": unary(
                "GetAttachment", "GetItemRequest",
                lambda r, c: M["Attachment"](id=r.id, body=M["HttpBody"](
                    content_type="application/pdf", data=b"%PDF-" + r.id.encode()))),
            "StreamRaw": grpc.unary_stream_rpc_method_handler(
                stream_raw, request_deserializer=M["WatchRequest"].FromString,
                response_serializer=ser),
            "UploadStream": grpc.stream_unary_rpc_method_handler(
                upload_stream, request_deserializer=M["HttpBody"].FromString,
                response_serializer=ser),
            "Plain": unary("Plain", "GetItemRequest",
                           lambda r, c: M["Item"](id="plain-" + r.id)),
            "Watch": grpc.unary_stream_rpc_method_handler(
                watch, request_deserializer=M["WatchRequest"].FromString,
                response_serializer=ser),
            "Collect": grpc.stream_unary_rpc_method_handler(
                collect, request_deserializer=M["Item"].FromString, response_serializer=ser),
        }
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                                  options=[("grpc.so_reuseport", 0)])
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("gh.test.v1.Shelf", handlers),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.address = "127.0.0.1:%d" % self.port
        self.server.start()

    def stop(self):
        self.server.stop(0)
