/** The agentcore command line: reference control plane, agent, wait, status, demo (not yet built). */
package dev.agentcore.examples;
