// Command povrisk is the return-to-poverty early-warning engine.
package main

import "os"

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
