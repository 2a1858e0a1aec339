import Foundation
import SonoImaging

/// A sample's image (grey) and merged mask at original resolution.
public struct LoadedSample: Sendable {
    public var image: GrayImage
    public var mask: Mask
    /// Whether the source image had differing colour channels (colour marks lost by grey conversion).
    public var channelsDiffered: Bool
}

extension Sample {
    /// Decodes the image as grey and the union of its masks (empty if there are none). Throws
    /// `DatasetError.sampleFailed` naming the file when a file is unreadable or a mask's size differs.
    public func load() throws -> LoadedSample {
        let conversion: GrayConversion
        do { conversion = try ImageIO.readGray(imageURL) } catch {
            throw DatasetError.sampleFailed(id: id, path: imageURL.path, reason: "\(error)")
        }
        let image = conversion.image
        var mask = Mask(width: image.width, height: image.height)
        for url in maskURLs {
            let part: Mask
            do { part = try ImageIO.readMask(url).mask } catch {
                throw DatasetError.sampleFailed(id: id, path: url.path, reason: "\(error)")
            }
            guard part.width == image.width, part.height == image.height else {
                throw DatasetError.sampleFailed(id: id, path: url.path, reason: "mask is \(part.width)×\(part.height) "
                    + "but the image is \(image.width)×\(image.height)")
            }
            mask = try mask.union(part)
        }
        return LoadedSample(image: image, mask: mask, channelsDiffered: conversion.channelsDiffered)
    }
}
