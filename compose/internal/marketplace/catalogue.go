package marketplace

import "fmt"

var (
	adjectives = []string{"Rusty", "Gilded", "Arcane", "Crimson", "Silent", "Frozen", "Ancient", "Radiant", "Hollow", "Feral"}
	nouns      = []string{"Blade", "Shield", "Amulet", "Helm", "Bow", "Lantern", "Cloak", "Gauntlet", "Tome", "Compass"}
)

// itemName is deterministic so that recordings taken against one stack
// replay against another with the same catalogue.
func itemName(id int64) string {
	i := int(id - 1)
	name := adjectives[i%len(adjectives)] + " " + nouns[(i/len(adjectives))%len(nouns)]
	if round := i / (len(adjectives) * len(nouns)); round > 0 {
		name = fmt.Sprintf("%s Mk %d", name, round+1)
	}
	return name
}

// itemPrice spreads prices over 10..100 so that a starting balance of 1000
// buys some items but not the whole catalogue.
func itemPrice(id int64) int64 {
	return 10 + (id*37)%91
}
