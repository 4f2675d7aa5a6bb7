package server

// Neutralise is neutralise, for the tests of the gradebook's cells.
var Neutralise = neutralise
