// Kept apart from SegmentCommand.swift, whose segmentation path is being reworked in another branch; when the
// two meet, this one line can move into the command.
extension SegmentCommand {
    mutating func validate() throws { try validateThreshold(threshold) }
}
