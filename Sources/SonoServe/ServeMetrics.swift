import Foundation
import Hummingbird
import Logging
import Prometheus

/// What `/metrics` shows, in Prometheus text: requests by route, method and status; request latency by route;
/// the inference queue's depth; seconds per inference.
final class ServeMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    let queueDepth: Gauge
    let inferenceSeconds: DurationHistogram
    private let latencyBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                              .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]

    init() {
        queueDepth = registry.makeGauge(name: "sonoseg_inference_queue_depth", help: "Inference jobs waiting or running")
        inferenceSeconds = registry.makeDurationHistogram(name: "sonoseg_inference_seconds", buckets: latencyBuckets,
                                                          help: "Time to segment one file (every frame), inference and outputs")
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(name: "sonoseg_http_requests_total", labels: [("route", route), ("method", method), ("status", String(status))],
                             help: "HTTP requests answered").increment()
        registry.makeDurationHistogram(name: "sonoseg_http_request_duration_seconds", labels: [("route", route)], buckets: latencyBuckets,
                                       help: "Time from request to response head").record(duration)
    }

    func text() -> String { registry.emitToString() }
}

/// Times and counts every request, and logs one line per request (method, the route's template such as
/// `/v1/items/{id}`, status, milliseconds) under the request's id; never a path, a body or a file's header, so no
/// patient data reaches a log.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = context.id
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let known: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        let method = known.contains(request.method.rawValue) ? request.method.rawValue : "other"   // bounded label values
        metrics.record(route: route, method: method, status: response.status.code, duration: elapsed)
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        // the route's template, not the path: a folder or file name under the root may name a patient
        context.logger.info("\(method) \(route) \(response.status.code) \(String(format: "%.1f", ms)) ms")
        return response
    }
}
