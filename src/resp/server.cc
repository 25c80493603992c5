// RespServer and its connections (server.h).
#include "resp/server.h"

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "net/acceptor.h"
#include "net/io_context_pool.h"
#include "util/thread_annotations.h"

namespace nds::resp {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunkBytes = 64 << 10;
constexpr size_t kThreadsMax = 256;
constexpr int kListenBacklog = 1024;

class Connection;

// The connection whose strand this thread is running a command of, while it does: a reply given
// synchronously from inside that command is taken at once, without a post.
thread_local const Connection* t_executing = nullptr;
struct Shared;

// Replies completed on any thread, waiting for the connection's strand to take them.
struct Mailbox {
  Mutex mu;
  std::vector<std::pair<uint64_t, Reply>> replies NDS_GUARDED_BY(mu);
  bool drain_posted NDS_GUARDED_BY(mu) = false;
  std::weak_ptr<Connection> connection;  // set once, before any reply
  std::shared_ptr<Shared> shared;
};

// What every connection shares with the server. Thread-safe. `open` turns false once the io
// threads are joined: a reply completing later is dropped instead of posted to a dead context.
struct Shared {
  RespServerOptions options;
  RespService* service = nullptr;
  Mutex mu;
  bool open NDS_GUARDED_BY(mu) = true;
  // Every open connection, held strongly until it closes (a connection waiting only for the node
  // has no pending Asio operation to keep it alive).
  std::map<uint64_t, std::shared_ptr<Connection>> connections NDS_GUARDED_BY(mu);
  std::atomic<uint64_t> next_id{1};
};

// One client connection. Every member is used on the connection's strand only, except what the
// reply callbacks touch through Shared's mutex.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<Shared> shared, uint64_t id)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)) {
    session_.id = id;
    chunk_.resize(kReadChunkBytes);
  }

  uint64_t id() const { return session_.id; }
  tcp::socket::executor_type executor() { return socket_.get_executor(); }

  void Start() {
    mailbox_->connection = weak_from_this();
    mailbox_->shared = shared_;
    last_activity_ = Clock::now();
    ArmIdleTimer(shared_->options.idle_timeout);
    Read();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    {
      // Unregistered before the socket closes: a client that sees the close may connect again
      // at once and must find the slot free.
      MutexLock lock(shared_->mu);
      shared_->connections.erase(session_.id);
    }
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  // One command in flight: its reply once the service has given it.
  struct Slot {
    uint64_t seq = 0;
    bool ready = false;
    Reply reply;
    CommandKind kind = CommandKind::kLocal;
    bool started = false;
    std::vector<std::string> args;  // until started
  };

  void ArmIdleTimer(Clock::duration wait) {
    timer_.expires_after(wait);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      auto idle = Clock::now() - self->last_activity_;
      if (idle >= self->shared_->options.idle_timeout) return self->Close();
      self->ArmIdleTimer(self->shared_->options.idle_timeout - idle);
    });
  }

  void Read() {
    if (closed_ || reading_ || input_done_) return;
    if (slots_.size() >= shared_->options.pipelined_commands_max) return;  // resumes on write
    reading_ = true;
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->reading_ = false;
                              if (ec) return self->Close();
                              self->last_activity_ = Clock::now();
                              self->in_.append(self->chunk_.data(), n);
                              self->ParseAvailable();
                              self->Read();
                            });
  }

  // Parses every complete command buffered, up to the pipelining limit, and starts those whose
  // turn has come.
  void ParseAvailable() {
    size_t offset = 0;
    while (!input_done_ && slots_.size() < shared_->options.pipelined_commands_max) {
      auto parsed = ParseCommand(std::string_view(in_).substr(offset), shared_->options.parser);
      if (!parsed.ok()) {
        // Answer what came before, then the error, then close: the stream cannot be trusted.
        input_done_ = true;
        Slot s;
        s.seq = next_seq_++;
        s.ready = s.started = true;
        s.reply = ErrorReply("ERR " + parsed.status().message());
        s.reply.close = true;
        slots_.push_back(std::move(s));
        break;
      }
      if (parsed->consumed_bytes == 0) break;
      offset += parsed->consumed_bytes;
      if (parsed->args.empty()) continue;
      // Nothing after QUIT runs (it closes the connection once answered), as in Redis.
      if (Lower(parsed->args.front()) == "quit") input_done_ = true;
      Slot s;
      s.seq = next_seq_++;
      s.kind = RespService::KindOf(parsed->args.front());
      s.args = std::move(parsed->args);
      slots_.push_back(std::move(s));
    }
    in_.erase(0, offset);
    StartInOrder();
    Flush();
  }

  // Starts the commands not yet started, in order, while each may run beside those in flight:
  // a read waits for the writes before it to complete (read-your-writes within a pipeline), a
  // write for the reads before it (they must not see it); same-kind runs go together. Writes are
  // all submitted before the first commits (the node puts them in one batch); the reads of a run
  // share one read point and then read on this strand, not on the node's thread. A command that
  // touches no key waits for reads started before it (an AUTH must not change what they may do).
  void StartInOrder() {
    for (;;) {
      std::vector<uint64_t> reads;
      const Connection* outer = std::exchange(t_executing, this);
      for (; next_start_ < slots_.size(); ++next_start_) {
        Slot& s = slots_[next_start_];
        if (s.started) continue;
        if (in_flight_ > 0 && s.kind != in_flight_kind_ &&
            (s.kind != CommandKind::kLocal || in_flight_kind_ == CommandKind::kRead)) {
          break;
        }
        s.started = true;
        if (s.kind == CommandKind::kLocal) {
          Execute(s);
          continue;
        }
        in_flight_kind_ = s.kind;
        ++in_flight_;
        if (s.kind == CommandKind::kRead) {
          reads.push_back(s.seq);
        } else {
          Execute(s);
        }
      }
      t_executing = outer;
      if (reads.empty()) return;
      // A read point given inside the call (a leader's lease read) runs the reads here, with no
      // post and no wake-up of another thread; then whatever waited for them starts.
      std::optional<ReadPointNow> now = ReadAfterReadPoint(std::move(reads));
      if (!now) return;
      ReadAt(now->seqs, now->status);
      if (in_flight_ != 0) return;
    }
  }

  // The read point of a run of reads, when it came inside ReadAfterReadPoint.
  struct ReadPointNow {
    std::vector<uint64_t> seqs;
    Status status;
  };

  // One read point for the reads `seqs`. Returns it when the node gave it inside the call; once
  // the call has returned, it comes through a post and the reads run on the strand, in order.
  std::optional<ReadPointNow> ReadAfterReadPoint(std::vector<uint64_t> seqs) {
    struct Answer {
      Mutex mu;
      bool returned NDS_GUARDED_BY(mu) = false;
      std::optional<Status> status NDS_GUARDED_BY(mu);
      std::vector<uint64_t> seqs;  // the caller's until returned, then the callback's
    };
    auto answer = std::make_shared<Answer>();
    answer->seqs = std::move(seqs);
    std::weak_ptr<Connection> weak = weak_from_this();
    std::shared_ptr<Shared> shared = shared_;
    shared_->service->WaitForReadPoint([weak, shared, answer](const Status& status) {
      {
        MutexLock lock(answer->mu);
        if (!answer->returned) {
          answer->status = status;
          return;
        }
      }
      MutexLock lock(shared->mu);
      if (!shared->open) return;
      auto self = weak.lock();
      if (!self) return;
      auto executor = self->socket_.get_executor();
      asio::post(executor, [self = std::move(self), seqs = std::move(answer->seqs), status] {
        self->RunReads(seqs, status);
      });
    });
    MutexLock lock(answer->mu);
    answer->returned = true;
    if (!answer->status) return std::nullopt;
    return ReadPointNow{std::move(answer->seqs), *answer->status};
  }

  void RunReads(const std::vector<uint64_t>& seqs, const Status& status) {
    if (closed_) return;
    ReadAt(seqs, status);
    if (in_flight_ == 0) StartInOrder();
    Flush();
  }

  // Runs the reads `seqs` at their read point (or answers each with why there is none).
  void ReadAt(const std::vector<uint64_t>& seqs, const Status& status) {
    session_.at_read_point = status.ok();
    const Connection* outer = std::exchange(t_executing, this);
    for (uint64_t seq : seqs) {
      if (slots_.empty() || seq < slots_.front().seq) continue;
      Slot& s = slots_[seq - slots_.front().seq];
      if (status.ok()) {
        Execute(s);  // reads the engine now: the reply is taken at once
      } else {
        Complete(seq, StatusReply(status));
      }
    }
    t_executing = outer;
    session_.at_read_point = false;
  }

  // Runs one command; called with t_executing == this. Its reply, given before Execute returns
  // (a local command, a refusal, a read at a held read point), is taken at once; one given later
  // from the node's thread goes through the mailbox.
  void Execute(Slot& s) {
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    uint64_t seq = s.seq;
    shared_->service->Execute(&session_, std::move(s.args), [this, mailbox, seq](Reply reply) {
      if (t_executing == this) return Complete(seq, std::move(reply));
      Post(mailbox, seq, std::move(reply));
    });
  }

  // On the strand: records the reply of `seq`. The caller starts what may follow and flushes.
  void Complete(uint64_t seq, Reply reply) {
    if (closed_ || slots_.empty() || seq < slots_.front().seq) return;
    Slot& s = slots_[seq - slots_.front().seq];
    s.ready = true;
    s.reply = std::move(reply);
    if (s.kind != CommandKind::kLocal) --in_flight_;
  }

  // Any thread: leaves the reply in the mailbox and, unless a drain is already on its way, posts
  // one to the strand. A burst of completions (one apply pass of the node) costs one post.
  static void Post(const std::shared_ptr<Mailbox>& mailbox, uint64_t seq, Reply reply) {
    {
      MutexLock lock(mailbox->mu);
      mailbox->replies.emplace_back(seq, std::move(reply));
      if (mailbox->drain_posted) return;
      mailbox->drain_posted = true;
    }
    // The context must still live to take a post.
    MutexLock lock(mailbox->shared->mu);
    if (!mailbox->shared->open) return;
    auto self = mailbox->connection.lock();
    if (!self) return;
    auto executor = self->socket_.get_executor();
    asio::post(executor, [self = std::move(self)] { self->Drain(); });
  }

  void Drain() {
    std::vector<std::pair<uint64_t, Reply>> replies;
    {
      MutexLock lock(mailbox_->mu);
      replies.swap(mailbox_->replies);
      mailbox_->drain_posted = false;
    }
    for (auto& [seq, reply] : replies) Complete(seq, std::move(reply));
    if (in_flight_ == 0) StartInOrder();
    Flush();
  }

  // Writes the replies ready at the front, in order, in one write.
  void Flush() {
    if (closed_ || writing_) return;
    while (!slots_.empty() && slots_.front().ready && !close_after_write_) {
      out_ += slots_.front().reply.bytes;
      close_after_write_ = slots_.front().reply.close;
      slots_.pop_front();
      --next_start_;  // a ready slot was started: next_start_ is past it
    }
    if (out_.empty()) {
      if (close_after_write_) Close();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->Close();
                        self->last_activity_ = Clock::now();
                        self->out_.clear();
                        if (self->close_after_write_) return self->Close();
                        // Commands may wait in `in_` behind the pipelining limit: parse them before
                        // reading more.
                        self->ParseAvailable();
                        self->Read();
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  Session session_;
  std::shared_ptr<Mailbox> mailbox_ = std::make_shared<Mailbox>();
  std::string chunk_;  // the read buffer of one async_read_some
  std::string in_;     // bytes received and not yet parsed into a command
  std::string out_;    // the reply bytes being written
  // Commands in arrival order; front().seq is the oldest owed reply. At most
  // pipelined_commands_max (plus one protocol error).
  std::deque<Slot> slots_;
  uint64_t next_seq_ = 1;
  size_t next_start_ = 0;  // index in slots_ of the first command not started
  // Store commands started and not yet answered, all of in_flight_kind_.
  size_t in_flight_ = 0;
  CommandKind in_flight_kind_ = CommandKind::kLocal;
  Clock::time_point last_activity_;
  bool reading_ = false;
  bool writing_ = false;
  bool input_done_ = false;         // a protocol error or QUIT: read nothing more
  bool close_after_write_ = false;  // the last reply queued closes the connection
  bool closed_ = false;
};

class RespServerImpl final : public RespServer {
 public:
  RespServerImpl(const RespServerOptions& options, RespService* service)
      : shared_(std::make_shared<Shared>()),
        pool_(options.threads, "nds-resp-io"),
        acceptor_(pool_, "RESP") {
    shared_->options = options;
    shared_->service = service;
  }
  // NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
  ~RespServerImpl() override { Stop(); }

  Status Listen() {
    return acceptor_.Listen(shared_->options.address, shared_->options.port, kListenBacklog);
  }

  void Run() {
    acceptor_.Start([this](tcp::socket socket) { Admit(std::move(socket)); });
    pool_.Run();
  }

  uint16_t port() const override { return acceptor_.port(); }

  void Stop() override {
    std::lock_guard stop_lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    acceptor_.Stop();
    pool_.Stop();
    std::map<uint64_t, std::shared_ptr<Connection>> connections;
    {
      MutexLock lock(shared_->mu);
      shared_->open = false;
      connections.swap(shared_->connections);
    }
    for (auto& [id, c] : connections) c->Close();
  }

 private:
  // On the acceptor's strand.
  void Admit(tcp::socket socket) {
    uint64_t id = shared_->next_id.fetch_add(1);
    std::shared_ptr<Connection> c;
    {
      MutexLock lock(shared_->mu);
      if (shared_->connections.size() >= shared_->options.connections_max) {
        // Redis's words. One best-effort write: the socket is new, its buffer is empty.
        static constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
        error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kFull.data(), kFull.size()), ignored);
        socket.close(ignored);
        return;
      }
      c = std::make_shared<Connection>(std::move(socket), shared_, id);
      shared_->connections.emplace(id, c);
    }
    auto executor = c->executor();
    asio::post(executor, [c = std::move(c)] { c->Start(); });
  }

  std::shared_ptr<Shared> shared_;
  net::IoContextPool pool_;
  net::Acceptor acceptor_;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

}  // namespace

RespServerOptions ServerOptionsFrom(const Limits& limits) {
  RespServerOptions o;
  o.parser.bulk_bytes_max = limits.value_bytes_max;
  o.parser.array_elements_max = limits.resp_array_elements_max;
  o.parser.inline_bytes_max = limits.resp_inline_bytes_max;
  o.parser.command_bytes_max = limits.resp_command_bytes_max;
  o.connections_max = limits.resp_connections_max;
  o.pipelined_commands_max = limits.resp_pipelined_commands_max;
  o.idle_timeout = limits.resp_idle_timeout;
  return o;
}

Result<std::unique_ptr<RespServer>> RespServer::Start(const RespServerOptions& options,
                                                      RespService* service) {
  if (options.threads == 0 || options.threads > kThreadsMax) {
    return InvalidArgument("RESP server threads must be 1.." + std::to_string(kThreadsMax));
  }
  if (options.connections_max == 0 || options.pipelined_commands_max == 0 ||
      options.idle_timeout.count() <= 0) {
    return InvalidArgument("RESP connection, pipelining and idle limits must be positive");
  }
  auto server = std::make_unique<RespServerImpl>(options, service);
  NDS_RETURN_IF_ERROR(server->Listen());
  server->Run();
  return std::unique_ptr<RespServer>(std::move(server));
}

}  // namespace nds::resp
