package standard

import (
	_ "github.com/reprise-dev/reprise/extensions/protocols/grpc"      // protocols.grpc
	_ "github.com/reprise-dev/reprise/extensions/protocols/http"      // protocols.http
	_ "github.com/reprise-dev/reprise/extensions/protocols/websocket" // protocols.websocket
)
