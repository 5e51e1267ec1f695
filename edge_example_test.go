package wsgate_test

import (
	"encoding/json"
	"fmt"

	"github.com/wsgate/wsgate"
)

// Nodes lists the live nodes of the cluster, as GET /edge/nodes does;
// without a Broker that carries heartbeats (a NodeBus), the server lists
// itself alone.
func ExampleServer_Nodes() {
	srv, err := wsgate.New(wsgate.Config{NodeID: "web1", Region: "eu-west", PublicURL: "https://eu1.example.com"})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	for _, n := range srv.Nodes() {
		fmt.Println(n.ID, n.Region, n.URL, n.Conns, n.Draining)
	}
	b, _ := json.Marshal(srv.Nodes())
	fmt.Println(string(b))
	// Output:
	// web1 eu-west https://eu1.example.com 0 false
	// [{"node":"web1","region":"eu-west","url":"https://eu1.example.com","conns":0,"load":0,"draining":false}]
}

// Node is this node's own line, with its current figures: a node can
// tell whether it is the one of its cluster that should do a task, as
// the demo's tick publisher does (the live node with the smallest id).
func ExampleServer_Node() {
	srv, err := wsgate.New(wsgate.Config{NodeID: "web1", Region: "eu-west"})
	if err != nil {
		panic(err)
	}
	self := srv.Node()
	leader := true
	for _, n := range srv.Nodes() {
		if !n.Draining && n.ID < self.ID {
			leader = false
		}
	}
	fmt.Println(self.ID, self.Region, self.Draining, leader)
	srv.Close()
	fmt.Println(srv.Node().Draining)
	// Output:
	// web1 eu-west false true
	// true
}
