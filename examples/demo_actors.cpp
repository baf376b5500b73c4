// This program demonstrates actors: stateful objects on a worker whose calls run one at a time.
//
// A bank account and an operations counter are plain, non-thread-safe C++ objects. Each
// lives on a worker as an actor (Dask: client.submit(BankAccount, actor=True)); many tasks
// and the client call them at once, and every call returns a future. The actor runs the
// calls one at a time, so no update is lost and the final balance is exact. A withdrawal
// that would overdraw throws; that call's future carries the exception and the account
// lives on. In Python with Dask this would be:
//
//   account = client.submit(BankAccount, 1000, actor=True).result()
//   counter = client.submit(Counter, actor=True).result()
//
//   def customer(account, counter):
//       for _ in range(20): account.deposit(10); counter.increment()
//       for _ in range(10): account.withdraw(5); counter.increment()
//
//   futures = [client.submit(customer, account, counter, pure=False) for _ in range(8)]
//   for _ in range(100): account.deposit(1); counter.increment()
//   wait(futures)
//   account.balance().result()         # 1000 + 8 * (200 - 50) + 100 = 2300
//
// The counter is a named actor ("operations"): the customer tasks look it up with
// cask::get_client().get_actor, while the account handle is passed to them as an
// argument. deposit() reads the balance, yields the thread and writes it back, so two
// calls running at once would lose money. At the end the program checks the balance and
// the number of operations, shows the refused withdrawal leaving the balance untouched,
// and drops its handles, after which the two instances are destroyed.
#include <cask/cask.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct InsufficientFunds : std::runtime_error {
  InsufficientFunds(long balance, long amount)
      : std::runtime_error("insufficient funds: balance " + std::to_string(balance) + ", asked " +
                           std::to_string(amount)) {}
};

class BankAccount {
 public:
  explicit BankAccount(long opening) : balance_(opening) {}
  long deposit(long amount) {
    const long before = balance_;
    std::this_thread::yield();  // a lost update if another call ran meanwhile
    balance_ = before + amount;
    return balance_;
  }
  long withdraw(long amount) {
    if (amount > balance_) throw InsufficientFunds(balance_, amount);
    balance_ -= amount;
    return balance_;
  }
  long balance() const { return balance_; }

 private:
  long balance_;
};

class Counter {
 public:
  long increment() { return ++n_; }
  long value() const { return n_; }

 private:
  long n_ = 0;
};

constexpr int kCustomers = 8, kDeposits = 20, kWithdrawals = 10, kClientDeposits = 100;
constexpr long kOpening = 1000, kDeposit = 10, kWithdrawal = 5, kClientDeposit = 1;

int customer(const cask::Actor<BankAccount>& account) {
  cask::Actor<Counter> counter = cask::get_client().get_actor<Counter>("operations");
  std::vector<cask::Future<long>> calls;
  for (int i = 0; i < kDeposits; ++i) {
    calls.push_back(account.call(&BankAccount::deposit, kDeposit));
    calls.push_back(counter.call(&Counter::increment));
  }
  for (int i = 0; i < kWithdrawals; ++i) {
    calls.push_back(account.call(&BankAccount::withdraw, kWithdrawal));
    calls.push_back(counter.call(&Counter::increment));
  }
  for (auto& c : calls) (void)c.result();  // the task's slot is handed back meanwhile
  return kDeposits + kWithdrawals;
}

// Only needed on a remote cluster (the same program runs on one, see
// examples/run_on_cluster.sh): the actor types, their constructors and methods, and the
// task, by name.
CASK_ACTOR(BankAccount, deposit, withdraw, balance);
CASK_ACTOR_INIT(BankAccount, long);
CASK_ACTOR(Counter, increment, value);
CASK_REMOTE(customer);

int main() {
  // With CASK_SCHEDULER_ADDRESS set, that cluster (examples/run_on_cluster.sh).
  cask::Client client = std::getenv("CASK_SCHEDULER_ADDRESS")
                            ? cask::Client{}
                            : cask::Client{{.workers = 4, .threads_per_worker = 1}};
  cask::Actor<BankAccount> account = client.submit_actor<BankAccount>(kOpening).result();
  cask::Actor<Counter> counter = client.submit_actor<Counter>(cask::actor_options{.name = "operations"}).result();
  std::cout << "bank account opened with " << kOpening << "; counter actor \"" << counter.name()
            << "\" created\n";
  std::cout << kCustomers << " customer tasks: " << kDeposits << " deposits of " << kDeposit << " and "
            << kWithdrawals << " withdrawals of " << kWithdrawal << " each; the client deposits "
            << kClientDeposits << " x " << kClientDeposit << " meanwhile\n";

  std::vector<cask::Future<int>> customers;
  for (int i = 0; i < kCustomers; ++i) customers.push_back(client.submit(customer, account));
  std::vector<cask::Future<long>> own;
  for (int i = 0; i < kClientDeposits; ++i) {
    own.push_back(account.call(&BankAccount::deposit, kClientDeposit));
    own.push_back(counter.call(&Counter::increment));
  }
  int operations = 0;
  for (auto& f : customers) operations += f.result(30s);
  (void)cask::wait(own, 30s);
  std::cout << "customers done: " << operations << " operations; client done: " << kClientDeposits
            << " deposits\n";

  const long expected_balance =
      kOpening + kCustomers * (kDeposits * kDeposit - kWithdrawals * kWithdrawal) + kClientDeposits * kClientDeposit;
  const long expected_operations = kCustomers * (kDeposits + kWithdrawals) + kClientDeposits;
  const long balance = account.call(&BankAccount::balance).result();
  const long counted = client.get_actor<Counter>("operations").call(&Counter::value).result();
  std::cout << "balance: " << balance << " (expected " << expected_balance << ")\n";
  std::cout << "operations counted: " << counted << " (expected " << expected_operations << ")\n";

  // Overdrawing fails this call only.
  bool refused = false;
  try {
    (void)account.call(&BankAccount::withdraw, 1'000'000L).result();
  } catch (const InsufficientFunds& e) {
    refused = true;
    std::cout << "withdraw(1000000) refused: " << e.what() << "\n";
  } catch (const cask::RemoteError& e) {  // on a remote cluster: the type's name and message
    refused = e.type_name() == "InsufficientFunds";
    std::cout << "withdraw(1000000) refused: " << std::string(e.what()).substr(e.type_name().size() + 2) << "\n";
  }
  const long after = account.call(&BankAccount::balance).result();
  std::cout << "balance after the refused withdrawal: " << after << "\n";
  const long then = account.call(&BankAccount::deposit, 50L).result();
  std::cout << "deposit(50) after it: " << then << "\n";

  // Dropping every handle (and the futures they came from) destroys the instances. The
  // finished customer tasks held copies too (their arguments): release them first.
  std::cout << "live actors: " << client.stats().actors << "\n";
  customers.clear();
  own.clear();
  account = {};
  counter = {};
  bool released = false;
  for (auto until = std::chrono::steady_clock::now() + 10s; !released && std::chrono::steady_clock::now() < until;) {
    released = client.stats().actors == 0;
    if (!released) std::this_thread::sleep_for(5ms);
  }
  std::cout << "live actors after the handles are dropped: " << client.stats().actors << "\n";

  const bool ok = balance == expected_balance && counted == expected_operations && refused &&
                  after == balance && then == balance + 50 && released;
  return ok ? 0 : 1;
}
