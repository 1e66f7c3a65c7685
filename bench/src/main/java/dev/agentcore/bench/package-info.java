/** Benchmarks and the storm harness (not yet built). */
package dev.agentcore.bench;
