package marketplace

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// burst runs f(0..n-1) on n goroutines released together by closing one
// channel, which is as close to simultaneous as the scheduler allows.
func burst(n int, f func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// books checks conservation from the outside, over gRPC: what the players
// hold plus the prices of the items they own must be what they started with.
func books(t *testing.T, m *market, players []string, start int64) (held, spent int64, negative int) {
	t.Helper()
	for _, p := range players {
		bal, err := m.client.GetBalance(ctxT(t), &platform.GetBalanceRequest{Player: p})
		require.NoError(t, err)
		held += bal.GetBalance()
		if bal.GetBalance() < 0 {
			negative++
		}
	}
	list, err := m.client.ListItems(ctxT(t), &platform.ListItemsRequest{})
	require.NoError(t, err)
	for _, it := range list.GetItems() {
		if it.GetOwner() != "" {
			spent += it.GetPrice()
		}
	}
	return held, spent, negative
}

// TestConcurrentBuysOfOneItem releases several buyers of one item together,
// once per item. Correct, exactly one wins every time and the books
// balance; with FAULT_BUY_RACE the same bursts sell an item twice.
func TestConcurrentBuysOfOneItem(t *testing.T) {
	const attempts, buyers = 40, 4
	for _, fault := range []bool{false, true} {
		t.Run(fmt.Sprintf("fault=%v", fault), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Items = attempts
			cfg.StartBalance = 100 * attempts // never too poor: only the race decides
			cfg.FaultBuyRace = fault
			m := startMarket(t, cfg)
			players := make([]string, buyers)
			for i := range players {
				players[i] = fmt.Sprintf("p%d", i)
				_, err := m.client.EnsurePlayer(ctxT(t), &platform.EnsurePlayerRequest{Player: players[i]})
				require.NoError(t, err)
			}

			doubleSales, tried := 0, 0
			for item := int64(1); item <= attempts; item++ {
				tried++
				errs := burst(buyers, func(i int) error {
					_, err := m.client.Buy(ctxT(t), &platform.BuyRequest{Player: players[i], ItemId: item})
					return err
				})
				wins := 0
				for _, err := range errs {
					if err == nil {
						wins++
						continue
					}
					require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
					require.Equal(t, ReasonItemSold, Reason(err))
				}
				require.GreaterOrEqual(t, wins, 1, "item %d: someone must win", item)
				if wins > 1 {
					doubleSales++
					if fault {
						break
					}
				}
			}
			held, spent, negative := books(t, m, players, cfg.StartBalance)
			initial := int64(buyers) * cfg.StartBalance
			t.Logf("fault=%v: %d double sales in %d bursts; held %d + spent %d vs %d", fault, doubleSales, tried, held, spent, initial)
			assert.Zero(t, negative)
			if fault {
				assert.Positive(t, doubleSales, "the race must show within %d bursts", attempts)
				assert.Less(t, held+spent, initial, "a double sale charges twice for one item")
			} else {
				assert.Zero(t, doubleSales, "exactly one buyer wins each item")
				assert.Equal(t, initial, held+spent, "money is conserved")
				assert.Equal(t, int64(0), m.server.Totals().Revenue-spent)
			}
		})
	}
}

// TestConcurrentBuysByOnePlayer has one player with 100 buy several items
// that each cost more than 50 at once: only one is affordable. Correct, the
// balance never goes negative; with FAULT_BUY_RACE it does.
func TestConcurrentBuysByOnePlayer(t *testing.T) {
	const attempts, parallel = 40, 4
	var dear []int64
	for id := int64(1); len(dear) < attempts*parallel; id++ {
		if itemPrice(id) > 50 {
			dear = append(dear, id)
		}
	}
	for _, fault := range []bool{false, true} {
		t.Run(fmt.Sprintf("fault=%v", fault), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Items = int(dear[len(dear)-1])
			cfg.StartBalance = 100
			cfg.FaultBuyRace = fault
			m := startMarket(t, cfg)

			negatives, tried := 0, 0
			for a := range attempts {
				tried++
				player := fmt.Sprintf("solo%d", a)
				_, err := m.client.EnsurePlayer(ctxT(t), &platform.EnsurePlayerRequest{Player: player})
				require.NoError(t, err)
				errs := burst(parallel, func(i int) error {
					_, err := m.client.Buy(ctxT(t), &platform.BuyRequest{Player: player, ItemId: dear[a*parallel+i]})
					return err
				})
				wins := 0
				for _, err := range errs {
					if err == nil {
						wins++
						continue
					}
					require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
					require.Equal(t, ReasonInsufficientBalance, Reason(err))
				}
				bal, err := m.client.GetBalance(ctxT(t), &platform.GetBalanceRequest{Player: player})
				require.NoError(t, err)
				if bal.GetBalance() < 0 {
					negatives++
					if fault {
						break
					}
				}
				if !fault {
					require.Equal(t, 1, wins, "one affordable item per burst")
				}
			}
			t.Logf("fault=%v: %d negative balances in %d bursts", fault, negatives, tried)
			if fault {
				assert.Positive(t, negatives, "the race must show within %d bursts", attempts)
				assert.Positive(t, m.server.Totals().Negative)
			} else {
				assert.Zero(t, negatives)
				assert.Zero(t, m.server.Totals().Negative)
			}
		})
	}
}
