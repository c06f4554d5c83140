package store

import "context"

// FillUp makes st's SQLite database full, as a disk with no room left would: st keeps one
// connection, the file is compacted (no free pages left) and that connection may not grow it.
func FillUp(ctx context.Context, st *Store) error {
	sqlDB, err := st.db.DB()
	if err != nil {
		return err
	}
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxIdleTime(0)
	if err := st.db.WithContext(ctx).Exec("VACUUM").Error; err != nil {
		return err
	}
	return st.db.WithContext(ctx).Exec("PRAGMA max_page_count = 1").Error // no lower than its size now
}
