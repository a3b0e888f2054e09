package main

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/edgemq/edgemq/internal/kv"
)

// countPrefix is where gpio_counter devices keep their counts in the
// gateway's database, by device id.
const countPrefix = "dv\x00count\x00"

// kvCount is the count of one gpio_counter device in the database
// (gpio.CountStore).
type kvCount struct {
	db *kv.DB
	id string
}

func (c kvCount) key() []byte { return []byte(countPrefix + c.id) }

// Load returns the stored count, 0 if there is none.
func (c kvCount) Load() (uint64, error) {
	if c.db == nil {
		return 0, errors.New("no database for the count")
	}
	var n uint64
	err := c.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(c.key())
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("stored count of %s is %d bytes, want 8", c.id, len(v))
			}
			n = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return n, err
}

// Save stores n and returns once it is durable.
func (c kvCount) Save(n uint64) error {
	if c.db == nil {
		return errors.New("no database for the count")
	}
	v := binary.BigEndian.AppendUint64(nil, n)
	if err := c.db.Update(func(txn *badger.Txn) error { return txn.Set(c.key(), v) }); err != nil {
		return err
	}
	return c.db.SyncWAL()
}
