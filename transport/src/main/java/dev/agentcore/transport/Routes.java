package dev.agentcore.transport;

/**
 * The RSocket routes of the agentcore protocol: the names carried in routing metadata. Version 2's
 * agent routes keep one connection across builds (a connection token bound to the workspace);
 * version 1's bind a whole connection to one row (a session token) and remain served.
 *
 * <table>
 *   <caption>routes</caption>
 *   <tr><th>route</th><th>interaction</th><th>credential in SETUP</th></tr>
 *   <tr><td>{@value #EXCHANGE_V2}</td><td>request-response</td><td>none needed</td></tr>
 *   <tr><td>{@value #MANIFESTS_V2}</td><td>request-stream</td><td>connection token</td></tr>
 *   <tr><td>{@value #LIFECYCLE_V2}</td><td>request-channel</td><td>connection token</td></tr>
 *   <tr><td>{@value #EXCHANGE}</td><td>request-response</td><td>none needed</td></tr>
 *   <tr><td>{@value #MANIFEST}</td><td>request-response</td><td>session token</td></tr>
 *   <tr><td>{@value #LIFECYCLE}</td><td>request-channel</td><td>session token</td></tr>
 *   <tr><td>{@value #WORKSPACES_CREATE}, {@value #WORKSPACES_GET}, {@value #WORKSPACES_DELETE},
 *       {@value #WORKSPACES_ROTATE_IDENTITY}</td><td>request-response</td><td>admin token</td></tr>
 *   <tr><td>{@value #WORKSPACES_LIST}</td><td>request-stream</td><td>admin token</td></tr>
 *   <tr><td>{@value #BUILDS_START}, {@value #BUILDS_STOP}</td><td>request-response</td><td>admin token</td></tr>
 *   <tr><td>{@value #ROWS}, {@value #WATCH}, {@value #CHANGES}</td><td>request-stream</td><td>admin token</td></tr>
 * </table>
 */
public final class Routes {

    /** An instance identity for a connection token bound to the workspace. */
    public static final String EXCHANGE_V2 = "agent.v2.exchange";
    /** The workspace's active row's manifest, then each new build's, on one stream. */
    public static final String MANIFESTS_V2 = "agent.v2.manifests";
    /** A lifecycle channel bound to the row its first payload names. */
    public static final String LIFECYCLE_V2 = "agent.v2.lifecycle";
    public static final String EXCHANGE = "agent.v1.exchange";
    public static final String MANIFEST = "agent.v1.manifest";
    public static final String LIFECYCLE = "agent.v1.lifecycle";
    public static final String WORKSPACES_CREATE = "control.v1.workspaces.create";
    public static final String WORKSPACES_GET = "control.v1.workspaces.get";
    public static final String WORKSPACES_LIST = "control.v1.workspaces.list";
    public static final String WORKSPACES_DELETE = "control.v1.workspaces.delete";
    public static final String WORKSPACES_ROTATE_IDENTITY = "control.v1.workspaces.rotate_identity";
    public static final String WORKSPACES_UPDATE_SCRIPTS = "control.v1.workspaces.update_scripts";
    public static final String ADMIN_ROTATE_TOKEN = "control.v1.admin.rotate_token";
    public static final String BUILDS_START = "control.v1.builds.start";
    public static final String BUILDS_STOP = "control.v1.builds.stop";
    public static final String ROWS = "control.v1.rows";
    public static final String WATCH = "control.v1.watch";
    /** Every row change of every workspace, from the moment of subscription: for dashboards and benchmarks. */
    public static final String CHANGES = "control.v1.changes";

    /** The data MIME type of every payload. */
    public static final String DATA_MIME_TYPE = "application/x-protobuf";

    private Routes() {
    }
}
