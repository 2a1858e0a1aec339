// DICOM objects out: a Segmentation (dcmseg) and a TID 1500 Measurement Report (dcmsr) for one segmented image,
// encoded in memory. The source file's header is read here again, and its Patient and Study attributes are copied
// verbatim into both objects; nothing about the patient crosses the C interface.
#include "CDicom.h"
#include "read_buffer.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmiod/iodmacro.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>
#include <dcmtk/dcmsr/cmr/init.h>
#include <dcmtk/dcmsr/cmr/tid1500.h>
#include <dcmtk/dcmsr/dsrdoc.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

void fail(char *error, const std::string &message) { std::snprintf(error, SONO_DICOM_ERROR_CAPACITY, "%s", message.c_str()); }

void initialise() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        CMR_ContentMappingResource::initializeAllContextGroups();
    });
}

// The codes written (checked against PS3.16 as pydicom's concept dictionary holds it).
const DSRCodedEntryValue kMass("4147007", "SCT", "Mass");
const DSRCodedEntryValue kBreast("76752008", "SCT", "Breast");
const DSRCodedEntryValue kLongAxis("103339001", "SCT", "Long axis");
const DSRCodedEntryValue kShortAxis("103340004", "SCT", "Short axis");
const DSRCodedEntryValue kArea("42798000", "SCT", "Area");
const DSRCodedEntryValue kDepth("131197000", "SCT", "Depth");
const DSRCodedEntryValue kProbability("122157", "DCM", "Probability");
const DSRCodedEntryValue kProbabilityOfCancer("111047", "DCM", "Probability of cancer");
const DSRCodedEntryValue kPathology("111042", "DCM", "Pathology");
const DSRCodedEntryValue kAssessmentCategory("111005", "DCM", "Assessment Category");
const DSRCodedEntryValue kMillimetre("mm", "UCUM", "millimeter");
const DSRCodedEntryValue kSquareMillimetre("mm2", "UCUM", "square millimeter");
const DSRCodedEntryValue kPixels("{pixels}", "UCUM", "pixels");
const DSRCodedEntryValue kNoUnits("1", "UCUM", "no units");

DSRCodedEntryValue birads_code(const std::string &category) {
    if (category == "2") return DSRCodedEntryValue("397141009", "SCT", "Mammography assessment (Category 2) - Benign finding");
    if (category == "3") return DSRCodedEntryValue("397143007", "SCT", "Mammography assessment (Category 3) - Probably benign finding");
    if (category == "4") return DSRCodedEntryValue("397144001", "SCT", "Mammography assessment (Category 4) - Suspicious abnormality");
    if (category == "5") return DSRCodedEntryValue("397145000", "SCT", "Mammography assessment (Category 5) - Highly suggestive of malignancy");
    return DSRCodedEntryValue();
}

// A decimal string (VR DS: at most 16 characters) as close to `value` as fits.
std::string decimal(double value) {
    char text[64];
    for (int digits = 12; digits > 1; digits--) {
        std::snprintf(text, sizeof text, "%.*g", digits, value);
        if (std::strlen(text) <= 16) break;
    }
    return text;
}

std::string text_of(DcmItem &item, const DcmTagKey &key) {
    OFString value;
    return item.findAndGetOFStringArray(key, value).good() ? std::string(value.c_str()) : std::string();
}

// The Patient and Study attributes the new objects carry, copied from the source as they are (empty where the
// source has them empty or lacks them: all are type 2 in the Patient and General Study modules, never invented).
const DcmTagKey kCopied[] = {DCM_PatientName,  DCM_PatientID,       DCM_PatientBirthDate, DCM_PatientSex,
                             DCM_StudyDate,    DCM_StudyTime,       DCM_AccessionNumber,  DCM_StudyID,
                             DCM_ReferringPhysicianName};

OFCondition copy_patient_and_study(DcmItem &source, DcmItem &target) {
    for (const DcmTagKey &key : kCopied) {
        DcmElement *element = nullptr;
        delete target.remove(key);
        if (source.findAndGetElement(key, element).good() && element) {
            OFCondition status = target.insert(OFstatic_cast(DcmElement *, element->clone()), OFTrue);
            if (status.bad()) return status;
        } else {
            OFCondition status = target.insertEmptyElement(key);
            if (status.bad()) return status;
        }
    }
    delete target.remove(DCM_SpecificCharacterSet);
    DcmElement *charset = nullptr;
    if (source.findAndGetElement(DCM_SpecificCharacterSet, charset).good() && charset) {
        target.insert(OFstatic_cast(DcmElement *, charset->clone()), OFTrue);
    }
    return target.putAndInsertString(DCM_StudyInstanceUID, text_of(source, DCM_StudyInstanceUID).c_str());
}

// A Part 10 file in memory (explicit VR little endian).
bool encode(DcmFileFormat &file, uint8_t **bytes, size_t *length, char *error) {
    const E_TransferSyntax xfer = EXS_LittleEndianExplicit;
    file.validateMetaInfo(xfer);
    size_t capacity = (size_t)file.calcElementLength(xfer, EET_ExplicitLength) + 65536;
    for (int attempt = 0; attempt < 4; attempt++, capacity *= 2) {
        std::vector<Uint8> buffer(capacity);
        DcmOutputBufferStream stream(buffer.data(), (offile_off_t)capacity);
        file.transferInit();
        OFCondition status = file.write(stream, xfer, EET_ExplicitLength, nullptr);
        file.transferEnd();
        if (status == EC_StreamNotifyClient) continue;
        if (status.bad()) { fail(error, std::string("cannot encode the object (") + status.text() + ")"); return false; }
        void *data = nullptr;
        offile_off_t written = 0;
        stream.flushBuffer(data, written);
        *bytes = (uint8_t *)std::malloc((size_t)written);
        if (!*bytes) { fail(error, "out of memory"); return false; }
        std::memcpy(*bytes, data, (size_t)written);
        *length = (size_t)written;
        return true;
    }
    fail(error, "cannot encode the object (larger than expected)");
    return false;
}

struct Source {
    std::string sop_class, sop_instance, study, series;
    long frames = 1;
    Uint16 rows = 0, columns = 0;
};

#define CHECK(expr, what)                                                                          \
    do {                                                                                           \
        OFCondition status_ = (expr);                                                              \
        if (status_.bad()) { fail(error, std::string(what) + " (" + status_.text() + ")"); return 1; } \
    } while (0)

int make_segmentation(const SonoDicomResult *in, const Source &src, DcmDataset &source, DcmFileFormat &file, char *error) {
    IODGeneralEquipmentModule::EquipmentInfo equipment("SonoSeg", "SonoSeg", "SONOSEG", in->software_version);
    ContentIdentificationMacro content(std::to_string(in->instance_number).c_str(), "LESION", "SonoSeg breast lesion outline", "");
    DcmSegmentation *created = nullptr;
    CHECK(DcmSegmentation::createBinarySegmentation(created, (Uint16)in->height, (Uint16)in->width, equipment, content),
          "cannot create the Segmentation");
    std::unique_ptr<DcmSegmentation> seg(created);
    // The study (and a Frame of Reference where the source has one) set here without DCMTK's value checks: the
    // Patient and Study attributes are copied after writing, as the source has them, so that a value DCMTK would
    // call invalid (a long ID, an odd date) does not cost the image its SEG. A source without a Frame of Reference
    // (most ultrasound) gives a SEG without one: it references its source through the Derivation Image functional
    // group, which PS3.3 A.51 allows; DCMTK 3.6.7 asks for one regardless, so its rule is relaxed for such a source.
    CHECK(seg->getStudy().setStudyInstanceUID(src.study.c_str(), OFFalse), "cannot set the study");
    const std::string frameOfReference = text_of(source, DCM_FrameOfReferenceUID);
    if (!frameOfReference.empty()) {
        CHECK(seg->getFrameOfReference().setFrameOfReferenceUID(frameOfReference.c_str(), OFFalse), "cannot set the frame of reference");
    } else {
        for (const DcmTagKey &key : {DCM_FrameOfReferenceUID, DCM_PositionReferenceIndicator}) {
            if (IODRule *rule = seg->getRules()->getByTag(key)) rule->setType("3");
        }
    }
    seg->getSeries().setSeriesInstanceUID(in->seg_series_uid);
    seg->getSeries().setSeriesNumber("9001");
    seg->getSeries().setSeriesDescription("SonoSeg lesion segmentation");

    DcmSegment *segment = nullptr;
    CHECK(DcmSegment::create(segment, "breast lesion", CodeSequenceMacro("49755003", "SCT", "Morphologically Abnormal Structure"),
                             CodeSequenceMacro("4147007", "SCT", "Mass"), DcmSegTypes::SAT_AUTOMATIC, "SonoSeg"),
          "cannot create the segment");
    segment->setSegmentDescription("SonoSeg lesion outline");
    AlgorithmIdentificationMacro &algorithm = segment->getSegmentationAlgorithmIdentification();
    algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence");
    algorithm.setAlgorithmName("SonoSeg");
    algorithm.setAlgorithmVersion(in->software_version);
    algorithm.setAlgorithmParameters((std::string("model=") + in->model_name + ";model_sha256=" + in->model_sha256).c_str(), OFFalse);
    segment->getGeneralAnatomyCode().getAnatomicRegion().set("76752008", "SCT", "Breast");
    Uint16 number = 0;
    CHECK(seg->addSegment(segment, number), "cannot add the segment");

    const OFString dimensions = [] { char uid[100]; return OFString(dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)); }();
    CHECK(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimensions, DCM_SegmentIdentificationSequence,
                                                 "ReferencedSegmentNumber"),
          "cannot set the dimension index");
    if (in->spacing_x > 0 && in->spacing_y > 0) {
        FGPixelMeasures measures;
        CHECK(measures.setPixelSpacing((decimal(in->spacing_y) + "\\" + decimal(in->spacing_x)).c_str()), "cannot set the pixel spacing");
        CHECK(seg->addForAllFrames(measures), "cannot add the pixel measures");
    }

    OFVector<ImageSOPInstanceReferenceMacro> references(1);
    references[0].setReferencedSOPClassUID(src.sop_class.c_str());
    references[0].setReferencedSOPInstanceUID(src.sop_instance.c_str());
    std::unique_ptr<FGDerivationImage> derivation(DcmSegmentation::createDerivationImageFG(references, "SonoSeg " + OFString(in->software_version)));
    if (!derivation) { fail(error, "cannot reference the source image"); return 1; }
    FGFrameContent frameContent;
    frameContent.setDimensionIndexValues(number, 0);
    OFVector<FGBase *> perFrame;
    perFrame.push_back(derivation.get());
    perFrame.push_back(&frameContent);
    std::vector<Uint8> pixels((size_t)in->width * in->height);
    for (size_t i = 0; i < pixels.size(); i++) pixels[i] = in->mask[i] ? 1 : 0;
    CHECK(seg->addFrame(pixels.data(), number, perFrame), "cannot add the segmentation frame");

    DcmDataset &ds = *file.getDataset();
    CHECK(seg->writeDataset(ds), "cannot write the Segmentation");
    CHECK(copy_patient_and_study(source, ds), "cannot copy the Patient and Study attributes");
    // Patient Orientation (type 2C without a plane orientation): the source's, whose geometry the SEG shares.
    DcmElement *orientation = nullptr;
    delete ds.remove(DCM_PatientOrientation);
    if (source.findAndGetElement(DCM_PatientOrientation, orientation).good() && orientation) ds.insert(OFstatic_cast(DcmElement *, orientation->clone()), OFTrue);
    else ds.insertEmptyElement(DCM_PatientOrientation);
    // Common Instance Reference: the source image's series and instance.
    delete ds.remove(DCM_ReferencedSeriesSequence);
    DcmItem *series = nullptr, *instance = nullptr;
    CHECK(ds.findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, series, -2), "cannot reference the source series");
    series->putAndInsertString(DCM_SeriesInstanceUID, src.series.c_str());
    CHECK(series->findOrCreateSequenceItem(DCM_ReferencedInstanceSequence, instance, -2), "cannot reference the source instance");
    instance->putAndInsertString(DCM_ReferencedSOPClassUID, src.sop_class.c_str());
    instance->putAndInsertString(DCM_ReferencedSOPInstanceUID, src.sop_instance.c_str());
    return 0;
}

// The source image item of the Derivation Image Sequence, completed: the frame of a multi-frame source (dcmfg
// leaves it out) and Spatial Locations Preserved YES (the SEG has the source's rows and columns, pixel for pixel).
void complete_source_reference(DcmDataset &ds, int frame) {
    DcmItem *perFrame = nullptr, *derivation = nullptr, *sourceImage = nullptr;
    if (ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, perFrame, 0).good() && perFrame
        && perFrame->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good() && derivation
        && derivation->findAndGetSequenceItem(DCM_SourceImageSequence, sourceImage, 0).good() && sourceImage) {
        if (frame > 0) sourceImage->putAndInsertString(DCM_ReferencedFrameNumber, std::to_string(frame).c_str());
        sourceImage->putAndInsertString(DCM_SpatialLocationsPreserved, "YES");
    }
}

int make_report(const SonoDicomResult *in, const Source &src, DcmDataset &source, DcmDataset &segmentation, DcmFileFormat &file,
                char *error) {
    TID1500_MeasurementReport report(CMR_CID7021::ImagingMeasurementReport);
    CHECK(report.setLanguage(CID5000_Languages::English), "cannot set the report's language");
    char uid[100];
    CHECK(report.getObservationContext().addDeviceObserver(dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT), "SonoSeg", "SonoSeg",
                                                           in->software_version),
          "cannot set the observer");
    CHECK(report.addProcedureReported(DSRCodedEntryValue("47079000", "SCT", "Ultrasonography of breast"), OFFalse),
          "cannot set the procedure");
    TID1600_ImageLibrary &library = report.getImageLibrary();
    if (!library.hasImageLibrary()) CHECK(library.createNewImageLibrary(), "cannot start the image library");
    CHECK(library.addImageGroup(), "cannot start the image library");
    // The source image with its descriptors (TID 1602: modality, dates, pixel spacing, …) as the source has them.
    OFCondition entry = library.addImageEntry(source, TID1600_ImageLibrary::withAllDescriptors, TID1600_ImageLibrary::ConceptNameList(), OFFalse);
    if (entry.bad() && entry != CMR_EC_NoImageLibraryEntryDescriptorsToBeAdded) {
        fail(error, std::string("cannot add the source image to the library (") + entry.text() + ")");
        return 1;
    }
    TID1500_MeasurementReport::TID1411_Measurements &group = report.getVolumetricROIMeasurements();
    CHECK(group.setTrackingIdentifier("breast lesion"), "cannot set the tracking identifier");
    CHECK(group.setTrackingUniqueIdentifier(dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)), "cannot set the tracking UID");
    CHECK(group.setFinding(kMass), "cannot set the finding");
    CHECK(group.setReferencedSegment(segmentation, 1, OFFalse), "cannot reference the segment");
    CHECK(group.setSourceSeriesForSegmentation(src.series.c_str()), "cannot reference the source series");
    CHECK(group.addFindingSite(kBreast), "cannot set the finding site");
    typedef TID1500_MeasurementReport::TID1411_Measurements::MeasurementValue Value;
    const bool mm = in->spacing_x > 0 && in->spacing_y > 0;
    auto measure = [&](const DSRCodedEntryValue &concept, double value, const DSRCodedEntryValue &units) -> OFCondition {
        if (!std::isfinite(value)) return EC_Normal;
        return group.addMeasurement(CID7469_GenericIntensityAndSizeMeasurements(concept), Value(decimal(value).c_str(),
                                    CID7181_AbstractMultiDimensionalImageModelComponentUnits(units), OFFalse), OFFalse, OFFalse);
    };
    const DSRCodedEntryValue &length = mm ? kMillimetre : kPixels;
    CHECK(measure(kArea, mm ? in->area_mm2 : in->area_px, mm ? kSquareMillimetre : kPixels), "cannot add the area");
    if (in->lesion_found) {
        CHECK(measure(kLongAxis, mm ? in->long_axis_mm : in->long_axis_px, length), "cannot add the long axis");
        CHECK(measure(kShortAxis, mm ? in->short_axis_mm : in->short_axis_px, length), "cannot add the short axis");
        CHECK(measure(kDepth, mm ? in->depth_mm : in->depth_px, length), "cannot add the depth");
    }
    CHECK(measure(kProbability, in->lesion_probability, kNoUnits), "cannot add the lesion probability");
    CHECK(measure(kProbabilityOfCancer, in->malignancy_probability, kNoUnits), "cannot add the probability of malignancy");
    const std::string pathology = in->pathology ? in->pathology : "";
    if (pathology == "benign") CHECK(group.addQualitativeEvaluation(kPathology, DSRCodedEntryValue("30807003", "SCT", "Benign")), "cannot add the pathology");
    if (pathology == "malignant") CHECK(group.addQualitativeEvaluation(kPathology, DSRCodedEntryValue("21594007", "SCT", "Malignant")), "cannot add the pathology");
    const DSRCodedEntryValue category = birads_code(in->birads ? in->birads : "");
    if (category.isValid()) CHECK(group.addQualitativeEvaluation(kAssessmentCategory, category), "cannot add the BI-RADS category");
    if (!report.isValid()) { fail(error, "the measurement report is incomplete (DCMTK's TID 1500 check)"); return 1; }

    DSRDocument document(DSRTypes::DT_ComprehensiveSR);
    CHECK(document.setTreeFromRootTemplate(report, OFTrue), "cannot build the report's tree");
    // DCMTK builds TID 1500 as Enhanced SR; Comprehensive SR (a superset) is what readers of TID 1500 expect.
    CHECK(document.changeDocumentType(DSRTypes::DT_ComprehensiveSR), "cannot make the report a Comprehensive SR");
    CHECK(document.createNewSeriesInStudy(src.study.c_str()), "cannot place the report in the study");
    document.setSeriesNumber("9002");
    document.setSeriesDescription("SonoSeg measurement report");
    document.setInstanceNumber(std::to_string(in->instance_number).c_str());
    document.setManufacturer("SonoSeg");
    document.setManufacturerModelName("SonoSeg");
    document.setSoftwareVersions(in->software_version);
    DSRSOPInstanceReferenceList &evidence = document.getCurrentRequestedProcedureEvidence();
    CHECK(evidence.addItem(src.study.c_str(), src.series.c_str(), src.sop_class.c_str(), src.sop_instance.c_str()), "cannot list the source image");
    CHECK(evidence.addItem(src.study.c_str(), in->seg_series_uid, text_of(segmentation, DCM_SOPClassUID).c_str(),
                           text_of(segmentation, DCM_SOPInstanceUID).c_str()),
          "cannot list the Segmentation");
    DcmDataset &ds = *file.getDataset();
    CHECK(document.write(ds), "cannot write the report");
    CHECK(copy_patient_and_study(source, ds), "cannot copy the Patient and Study attributes");
    ds.putAndInsertString(DCM_SeriesInstanceUID, in->sr_series_uid);
    return 0;
}

int write_objects(const SonoDicomResult *in, SonoDicomObjects *out, char *error) {
    initialise();
    if (!in || !in->source_path || !in->mask || in->width <= 0 || in->height <= 0 || in->width > 65535 || in->height > 65535
        || !in->seg_series_uid || !in->sr_series_uid || !in->software_version || !in->model_name || !in->model_sha256) {
        fail(error, "incomplete request");
        return 1;
    }
    DcmFileFormat sourceFile;
    // The header only: pixel data stays on disk (read lazily, never needed here).
    OFCondition status = sourceFile.loadFile(in->source_path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
    if (status.bad()) { fail(error, std::string("cannot read the source header again (") + status.text() + ")"); return 1; }
    DcmDataset &source = *sourceFile.getDataset();
    Source src;
    src.sop_class = text_of(source, DCM_SOPClassUID);
    src.sop_instance = text_of(source, DCM_SOPInstanceUID);
    src.study = text_of(source, DCM_StudyInstanceUID);
    src.series = text_of(source, DCM_SeriesInstanceUID);
    std::string missing;
    for (auto [name, value] : {std::pair<const char *, std::string *>{"SOP Class UID", &src.sop_class}, {"SOP Instance UID", &src.sop_instance},
                               {"Study Instance UID", &src.study}, {"Series Instance UID", &src.series}}) {
        if (value->empty()) missing += missing.empty() ? name : std::string(", ") + name;
        else if (DcmUniqueIdentifier::checkStringValue(value->c_str(), "1").bad()) missing += (missing.empty() ? "a valid " : ", a valid ") + std::string(name);
    }
    if (!missing.empty()) { fail(error, "the source has no " + missing + "; SonoSeg never invents one to reference it"); return 4; }
    Sint32 frames = 1;
    if (source.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    source.findAndGetUint16(DCM_Rows, src.rows);
    source.findAndGetUint16(DCM_Columns, src.columns);
    if (src.rows != in->height || src.columns != in->width) {
        fail(error, "the source is " + std::to_string(src.columns) + "x" + std::to_string(src.rows) + ", the mask " + std::to_string(in->width) + "x"
                        + std::to_string(in->height));
        return 4;
    }
    if ((frames > 1) != (in->frame > 0) || in->frame > frames) {
        fail(error, "frame " + std::to_string(in->frame) + " does not name a frame of a source with " + std::to_string(frames));
        return 1;
    }
    DcmFileFormat segFile, srFile;
    if (int refused = make_segmentation(in, src, source, segFile, error)) return refused;
    complete_source_reference(*segFile.getDataset(), in->frame);
    if (int refused = make_report(in, src, source, *segFile.getDataset(), srFile, error)) return refused;
    std::snprintf(out->seg_uid, sizeof out->seg_uid, "%s", text_of(*segFile.getDataset(), DCM_SOPInstanceUID).c_str());
    std::snprintf(out->sr_uid, sizeof out->sr_uid, "%s", text_of(*srFile.getDataset(), DCM_SOPInstanceUID).c_str());
    if (!encode(segFile, &out->seg, &out->seg_length, error)) return 1;
    if (!encode(srFile, &out->sr, &out->sr_length, error)) {
        std::free(out->seg);
        out->seg = nullptr;
        return 1;
    }
    return 0;
}

int read_object(const uint8_t *data, size_t length, SonoDicomObjectInfo *out, char *error) {
    initialise();
    DcmFileFormat file;
    OFCondition status = sono_read_buffer(data, length, file);
    if (status.bad()) { fail(error, std::string("not readable (") + status.text() + ")"); return 1; }
    DcmDataset &ds = *file.getDataset();
    const struct { DcmTagKey key; char *dst; } uids[] = {{DCM_SOPClassUID, out->sop_class}, {DCM_SOPInstanceUID, out->sop_instance},
                                                         {DCM_StudyInstanceUID, out->study_uid}, {DCM_SeriesInstanceUID, out->series_uid}};
    for (const auto &u : uids) std::snprintf(u.dst, 68, "%s", text_of(ds, u.key).c_str());
    if (std::string(out->sop_class) == UID_SegmentationStorage) {
        DcmSegmentation *loaded = nullptr;
        CHECK(DcmSegmentation::loadDataset(ds, loaded), "dcmseg cannot read the Segmentation");
        std::unique_ptr<DcmSegmentation> seg(loaded);
        out->segments = (int)seg->getNumberOfSegments();
        Uint16 rows = 0, columns = 0;
        ds.findAndGetUint16(DCM_Rows, rows);
        ds.findAndGetUint16(DCM_Columns, columns);
        out->rows = rows;
        out->columns = columns;
        const DcmIODTypes::Frame *frame = seg->getFrame(0);
        if (!frame) { fail(error, "the Segmentation has no frame"); return 1; }
        std::unique_ptr<DcmIODTypes::Frame> unpacked(DcmSegUtils::unpackBinaryFrame(frame, rows, columns));
        if (!unpacked) { fail(error, "the frame cannot be unpacked"); return 1; }
        out->pixels = (uint8_t *)std::malloc((size_t)rows * columns);
        if (!out->pixels) { fail(error, "out of memory"); return 1; }
        std::memcpy(out->pixels, unpacked->pixData, (size_t)rows * columns);
        DcmItem *perFrame = nullptr, *derivation = nullptr, *sourceImage = nullptr;
        if (ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, perFrame, 0).good() && perFrame
            && perFrame->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation, 0).good() && derivation
            && derivation->findAndGetSequenceItem(DCM_SourceImageSequence, sourceImage, 0).good() && sourceImage) {
            std::snprintf(out->referenced_sop_instance, 68, "%s", text_of(*sourceImage, DCM_ReferencedSOPInstanceUID).c_str());
            Sint32 number = 0;
            if (sourceImage->findAndGetSint32(DCM_ReferencedFrameNumber, number).good()) out->referenced_frame = (int)number;
        }
        return 0;
    }
    DSRDocument document;
    CHECK(document.read(ds), "dcmsr cannot read the report");
    // the NUM items under Imaging Measurements (the image library's descriptors hold NUM items too)
    DSRDocumentTree &tree = document.getTree();
    if (tree.gotoRoot() > 0 && tree.gotoNamedNode(DSRCodedEntryValue("126010", "DCM", "Imaging Measurements")) > 0) {
        const size_t level = tree.getLevel();
        while (tree.iterate() > 0 && tree.getLevel() > level) {
            if (tree.getCurrentContentItem().getValueType() == DSRTypes::VT_Num) out->measurements++;
        }
    }
    return 0;
}

}  // namespace

extern "C" int sono_read_dicom_object(const uint8_t *data, size_t length, SonoDicomObjectInfo *out, char error[SONO_DICOM_ERROR_CAPACITY]) {
    error[0] = 0;
    std::memset(out, 0, sizeof(*out));
    try {
        int status = read_object(data, length, out, error);
        if (status != 0) {
            std::free(out->pixels);
            out->pixels = nullptr;
        }
        return status;
    } catch (...) {
        fail(error, "the DICOM object reader failed");
        return 1;
    }
}

extern "C" void sono_dicom_new_uid(char uid[68]) {
    char buffer[100];
    std::snprintf(uid, 68, "%s", dcmGenerateUniqueIdentifier(buffer, SITE_SERIES_UID_ROOT));
}

extern "C" int sono_write_dicom_objects(const SonoDicomResult *in, SonoDicomObjects *out, char error[SONO_DICOM_ERROR_CAPACITY]) {
    error[0] = 0;
    std::memset(out, 0, sizeof(*out));
    try {
        return write_objects(in, out, error);
    } catch (...) {
        fail(error, "the DICOM object writer failed");
        return 1;
    }
}
