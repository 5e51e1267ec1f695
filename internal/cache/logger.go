package cache

import (
	"context"
	"log/slog"
)

// otterLogger passes otter's own warnings and errors to the cache's logger.
type otterLogger struct{ l *slog.Logger }

func (o otterLogger) Warn(ctx context.Context, msg string, err error) {
	o.l.WarnContext(ctx, "cache: "+msg, "err", err)
}

func (o otterLogger) Error(ctx context.Context, msg string, err error) {
	o.l.ErrorContext(ctx, "cache: "+msg, "err", err)
}
